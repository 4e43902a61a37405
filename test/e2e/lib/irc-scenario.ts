/**
 * An IRC session between three real clients (irc-framework 4.14) on a real server: registration (PASS, NICK, USER
 * with a real name) and one client turned away for sending no PASS,
 * a channel, channel and private PRIVMSG/NOTICE/ACTION with non-ASCII text, a nick change, a DCC SEND of a few MB on
 * a side connection, a PART and QUITs. Every step waits until the clients that should see it have seen it, so the
 * wire order is the log order. The log records what the clients did and saw: the ground truth imtap's rows are
 * compared with.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'irc-framework';
import { Inbox, within } from './inbox.js';
import { dccReceive, dccServe, decimalToIpv4, generateBytes, hashes, ipv4ToDecimal } from './dcc.js';

export type IrcMessageKind = 'privmsg' | 'notice' | 'action';

export interface IrcAccount {
  /** The nick registered with (before any change). */
  nick: string;
  /** USER's user name (ngircd shows it with a "~" as no ident answered). */
  user: string;
  realname: string;
  usedPass: boolean;
  /** The PASS sent, when usedPass. */
  password?: string;
  /** False for a client the server turned away (ERROR, then closed) instead of welcoming (001). */
  registered: boolean;
  /** The server's ERROR text for a turned-away client. */
  rejection?: string;
  /** The client's TCP port towards the server (the flow's client side). */
  clientPort: number;
}

export interface IrcNickChange {
  from: string;
  to: string;
  at: number;
  seenBy: string[];
}

export interface IrcChannelEvent {
  nick: string;
  channel: string;
  action: 'join' | 'part';
  /** PART's reason. */
  message?: string;
  at: number;
  seenBy: string[];
}

export interface IrcQuit {
  nick: string;
  message: string;
  at: number;
  /** Clients that shared a channel with it and saw the QUIT (empty when it shared none). */
  seenBy: string[];
}

export interface IrcLoggedMessage {
  /** Nick at the time of sending. */
  from: string;
  /** A nick or a channel. */
  to: string;
  kind: IrcMessageKind;
  /** The text as sent: for an action, without the \x01ACTION … \x01 wrapping. */
  text: string;
  /** ms since the epoch, just before the send. */
  at: number;
  /** Nicks (as they were then) whose client received it with this exact text. */
  receivedBy: string[];
}

export interface IrcDccFile {
  from: string;
  to: string;
  name: string;
  size: number;
  sha256: string;
  md5: string;
  /** Bytes the receiver read off the DCC connection (equal to size: the harness fails otherwise). */
  bytes: number;
  /** Address and port announced in the CTCP line; the sender listened there. */
  ip: string;
  port: number;
  /** The CTCP payload exactly as sent, without the \x01 delimiters. */
  ctcp: string;
  /** The receiver's TCP port on the DCC connection. */
  receiverPort: number;
  /** 4-byte acks the receiver sent. */
  acks: number;
  /** The generated file, kept in the run dir for byte comparison with what imtap carves. */
  path: string;
  at: number;
}

export interface IrcLog {
  server: { host: string; port: number };
  accounts: IrcAccount[];
  nickChanges: IrcNickChange[];
  channels: IrcChannelEvent[];
  messages: IrcLoggedMessage[];
  quits: IrcQuit[];
  dcc: IrcDccFile[];
}

export interface IrcScenarioOptions {
  host: string;
  port: number;
  /** Port the DCC sender listens on (known in advance so the capture filter can include it). */
  dccPort: number;
  /** Where the DCC file is written. */
  dir: string;
  /**
   * The server's password. ngircd without PAM accepts only PASS with exactly this (and no PASS only when it has
   * none), so with a password every member sends PASS and one extra client without PASS is turned away; without
   * one, nobody sends PASS.
   */
  password?: string;
  /** DCC file size in bytes; default 3 MiB. */
  dccSize?: number;
  /** Per-step timeout; default 10 s. */
  stepTimeoutMs?: number;
}

type IrcEvent =
  | { type: 'registered'; nick: string }
  | { type: IrcMessageKind; from: string; to: string; text: string }
  | { type: 'ctcp'; from: string; to: string; ctcp: string; text: string }
  | { type: 'join' | 'part'; nick: string; channel: string; message?: string }
  | { type: 'quit'; nick: string; message: string }
  | { type: 'nick'; from: string; to: string }
  | { type: 'close' }
  | { type: 'error'; text: string };

interface Peer {
  label: string;
  nick: string;
  client: Client;
  inbox: Inbox<IrcEvent>;
}

export const IRC_CHANNEL = '#imtap';

/** Texts with 2-, 3- and 4-byte UTF-8 sequences, so a decoder that takes bytes for Latin-1 shows it. */
export const IRC_TEXTS = {
  channelHello: 'Grüße — 你好 ✓',
  privateToAlice: 'Hallo Alice, schönen Tag! こんにちは ✓',
  privateToCarol: 'Carol, hast du die Datei? Ça va? 😀',
  channelNotice: 'Hinweis: Wartung um 12:00 — 注意 ✓',
  privateNotice: 'Privater Hinweis für Bob ✓',
  action: 'winkt allen zu 👋',
  afterNick: 'Ich heiße jetzt anders — 名前 ✓',
  part: 'Tschüss 👋',
  quitCarol: 'Auf Wiedersehen ✓',
  quitAlice: 'Bis bald!',
  quitBob: 'Ende.',
} as const;

function connectPeer(label: string, opts: { host: string; port: number; nick: string; user: string; realname: string; password?: string }): Peer {
  const inbox = new Inbox<IrcEvent>(`irc ${label}`);
  const client = new Client();
  const peer: Peer = { label, nick: opts.nick, client, inbox };
  client.on('registered', (e) => inbox.push({ type: 'registered', nick: e.nick }));
  for (const kind of ['privmsg', 'notice', 'action'] as const) {
    client.on(kind, (e) => {
      if (!e.from_server) inbox.push({ type: kind, from: e.nick, to: e.target, text: e.message });
    });
  }
  client.on('ctcp request', (e) => inbox.push({ type: 'ctcp', from: e.nick, to: e.target, ctcp: e.type, text: e.message }));
  client.on('join', (e) => inbox.push({ type: 'join', nick: e.nick, channel: e.channel }));
  client.on('part', (e) => inbox.push({ type: 'part', nick: e.nick, channel: e.channel, message: e.message }));
  client.on('quit', (e) => inbox.push({ type: 'quit', nick: e.nick, message: e.message }));
  client.on('nick', (e) => {
    if (e.nick === peer.nick) peer.nick = e.new_nick;
    inbox.push({ type: 'nick', from: e.nick, to: e.new_nick });
  });
  client.on('irc error', (e) => inbox.push({ type: 'error', text: e.reason ?? e.error }));
  client.on('socket close', () => inbox.push({ type: 'close' }));
  client.connect({
    host: opts.host,
    port: opts.port,
    nick: opts.nick,
    username: opts.user,
    gecos: opts.realname,
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    encoding: 'utf8',
    // Here, not in the constructor: connect() replaces the constructor's options. No automatic reconnect or PING:
    // either would add traffic the log does not describe.
    auto_reconnect: false,
    ping_interval: 0,
    ping_timeout: 0,
    // irc-framework answers CTCP VERSION itself unless this is null.
    version: null,
  });
  return peer;
}

export async function runIrcClients(opts: IrcScenarioOptions): Promise<IrcLog> {
  const step = opts.stepTimeoutMs ?? 10_000;
  const log: IrcLog = {
    server: { host: opts.host, port: opts.port },
    accounts: [],
    nickChanges: [],
    channels: [],
    messages: [],
    quits: [],
    dcc: [],
  };
  const pass = opts.password !== undefined ? { password: opts.password } : {};
  const specs = [
    { label: 'alice', nick: 'alice', user: 'alice', realname: 'Alice Ärger', ...pass },
    { label: 'bob', nick: 'bob', user: 'bobby', realname: 'Bob Bäcker ✓', ...pass },
    { label: 'carol', nick: 'carol', user: 'carol', realname: 'Carol 陈', ...pass },
  ];
  const peers: Peer[] = [];
  const others: Peer[] = [];
  try {
    // A client without PASS on a server with a password: ngircd answers ERROR and closes. First, so its flow is
    // over before the others start.
    if (opts.password !== undefined) {
      const s = { label: 'mallory', nick: 'mallory', user: 'mallory', realname: 'Mallory Ohnepass' };
      const p = connectPeer(s.label, { host: opts.host, port: opts.port, ...s });
      others.push(p);
      const clientPort = await new Promise<number>((resolve) => {
        const sock = p.client.connection.transport?.socket;
        if (sock?.localPort) resolve(sock.localPort);
        else if (sock) sock.once('connect', () => resolve(sock.localPort ?? 0));
        else resolve(0);
      });
      const err = await p.inbox.waitFor((e) => e.type === 'error', 'ERROR for a client without PASS', step);
      await p.inbox.waitFor((e) => e.type === 'close', 'close after ERROR', step);
      if (p.inbox.items.some((e) => e.type === 'registered')) throw new Error('ngircd welcomed a client without PASS');
      log.accounts.push({
        nick: s.nick,
        user: s.user,
        realname: s.realname,
        usedPass: false,
        registered: false,
        rejection: err.type === 'error' ? err.text : '',
        clientPort,
      });
    }
    // Registration, one client at a time so the flows start in a known order.
    for (const s of specs) {
      const p = connectPeer(s.label, { host: opts.host, port: opts.port, ...s });
      peers.push(p);
      await p.inbox.waitFor((e) => e.type === 'registered', 'registration (001)', step);
      log.accounts.push({
        nick: s.nick,
        user: s.user,
        realname: s.realname,
        usedPass: 'password' in s,
        ...('password' in s ? { password: s.password } : {}),
        registered: true,
        clientPort: p.client.connection.transport?.socket?.localPort ?? 0,
      });
    }
    const [alice, bob, carol] = peers as [Peer, Peer, Peer];

    // Joins: each waits for its own JOIN echo and for the members already there to see it.
    const inChannel: Peer[] = [];
    for (const p of peers) {
      const at = Date.now();
      const nick = p.nick;
      p.client.join(IRC_CHANNEL);
      const seers = [p, ...inChannel];
      await Promise.all(seers.map((q) => q.inbox.waitFor((e) => e.type === 'join' && e.nick === nick && e.channel === IRC_CHANNEL, `JOIN of ${nick}`, step)));
      inChannel.push(p);
      log.channels.push({ nick, channel: IRC_CHANNEL, action: 'join', at, seenBy: seers.map((q) => q.nick) });
    }

    const send = async (from: Peer, to: string, kind: IrcMessageKind, text: string, receivers: Peer[]) => {
      const at = Date.now();
      const sender = from.nick;
      if (kind === 'privmsg') from.client.say(to, text);
      else if (kind === 'notice') from.client.notice(to, text);
      else from.client.action(to, text);
      await Promise.all(
        receivers.map((r) =>
          r.inbox.waitFor((e) => e.type === kind && e.from === sender && e.to === to && e.text === text, `${kind} from ${sender} to ${to}`, step),
        ),
      );
      log.messages.push({ from: sender, to, kind, text, at, receivedBy: receivers.map((r) => r.nick) });
    };

    await send(alice, IRC_CHANNEL, 'privmsg', IRC_TEXTS.channelHello, [bob, carol]);
    await send(bob, 'alice', 'privmsg', IRC_TEXTS.privateToAlice, [alice]);
    await send(alice, 'carol', 'privmsg', IRC_TEXTS.privateToCarol, [carol]);
    await send(carol, IRC_CHANNEL, 'notice', IRC_TEXTS.channelNotice, [alice, bob]);
    await send(alice, 'bob', 'notice', IRC_TEXTS.privateNotice, [bob]);
    await send(alice, IRC_CHANNEL, 'action', IRC_TEXTS.action, [bob, carol]);

    // Nick change, seen by everyone in the channel including carol herself.
    {
      const from = carol.nick;
      const to = 'carol_away';
      const at = Date.now();
      carol.client.changeNick(to);
      await Promise.all(peers.map((q) => q.inbox.waitFor((e) => e.type === 'nick' && e.from === from && e.to === to, `NICK ${from} → ${to}`, step)));
      log.nickChanges.push({ from, to, at, seenBy: peers.map((q) => q.nick) });
    }
    await send(carol, IRC_CHANNEL, 'privmsg', IRC_TEXTS.afterNick, [alice, bob]);

    log.dcc.push(await dccSend(alice, bob, opts, step));

    // PART with a reason, seen by the remaining members.
    {
      const at = Date.now();
      bob.client.part(IRC_CHANNEL, IRC_TEXTS.part);
      const seers = [bob, alice, carol];
      await Promise.all(seers.map((q) => q.inbox.waitFor((e) => e.type === 'part' && e.nick === 'bob' && e.channel === IRC_CHANNEL, 'PART of bob', step)));
      log.channels.push({ nick: 'bob', channel: IRC_CHANNEL, action: 'part', message: IRC_TEXTS.part, at, seenBy: seers.map((q) => q.nick) });
    }

    // QUITs: carol's is seen by alice (shared channel); alice and bob then share no channel, so theirs are seen by
    // nobody and only the closed socket confirms them.
    const quit = async (p: Peer, message: string, seers: Peer[]) => {
      const at = Date.now();
      const nick = p.nick;
      p.client.quit(message);
      await Promise.all([
        p.inbox.waitFor((e) => e.type === 'close', `socket close after QUIT of ${nick}`, step),
        ...seers.map((q) => q.inbox.waitFor((e) => e.type === 'quit' && e.nick === nick, `QUIT of ${nick}`, step)),
      ]);
      log.quits.push({ nick, message, at, seenBy: seers.map((q) => q.nick) });
    };
    await quit(carol, IRC_TEXTS.quitCarol, [alice]);
    await quit(alice, IRC_TEXTS.quitAlice, []);
    await quit(bob, IRC_TEXTS.quitBob, []);
    return log;
  } finally {
    // Whatever failed above, no socket stays open (an open client would keep the test process alive).
    for (const p of [...others, ...peers]) {
      p.client.removeAllListeners();
      p.client.connection.transport?.socket?.destroy();
    }
  }
}

async function dccSend(from: Peer, to: Peer, opts: IrcScenarioOptions, step: number): Promise<IrcDccFile> {
  const size = opts.dccSize ?? 3 * 1024 * 1024;
  const name = 'imtap-e2e-dcc.bin';
  const data = generateBytes(size, `imtap e2e dcc ${size}`);
  const file = path.join(opts.dir, name);
  fs.writeFileSync(file, data);
  const ip = '127.0.0.1';
  const at = Date.now();
  const serving = dccServe(data, ip, opts.dccPort, 30_000);
  await within(serving.listening, step, `DCC listener on port ${opts.dccPort}`);
  const ctcp = `DCC SEND ${name} ${ipv4ToDecimal(ip)} ${opts.dccPort} ${size}`;
  from.client.ctcpRequest(to.nick, 'DCC', 'SEND', name, ipv4ToDecimal(ip), opts.dccPort, size);
  const offer = await to.inbox.waitFor((e) => e.type === 'ctcp' && e.ctcp === 'DCC' && e.from === from.nick, 'CTCP DCC SEND', step);
  if (offer.type !== 'ctcp') throw new Error('unreachable');
  // The receiver acts on the offer as it arrived, not on what the sender meant to send.
  const m = /^DCC SEND (\S+) (\d+) (\d+) (\d+)$/.exec(offer.text);
  if (!m) throw new Error(`receiver could not parse the DCC offer: ${JSON.stringify(offer.text)}`);
  const got = await dccReceive(decimalToIpv4(Number(m[2])), Number(m[3]), Number(m[4]), 30_000);
  const sent = await serving.done;
  if (!got.data.equals(data)) throw new Error(`DCC: received bytes differ from the file (${got.data.length} of ${size})`);
  if (sent.peerPort !== got.localPort) throw new Error(`DCC: sender saw port ${sent.peerPort}, receiver used ${got.localPort}`);
  return {
    from: from.nick,
    to: to.nick,
    name: m[1]!,
    size,
    ...hashes(got.data),
    bytes: got.data.length,
    ip,
    port: opts.dccPort,
    ctcp,
    receiverPort: got.localPort,
    acks: got.acks,
    path: file,
    at,
  };
}

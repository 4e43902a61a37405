/**
 * An XMPP session between three real clients (@xmpp/client 0.14) on a real server, over plaintext c2s with SASL
 * PLAIN: log-in with resources, roster items and mutual presence subscriptions, chat messages with non-ASCII text,
 * a MUC room (join, subject, groupchat, leave), a headline and a normal message with subjects, and a file offered
 * with SI and sent by in-band bytestreams through the server. Every step waits until the recipients have it, so the
 * wire order is the log order. The log is what the clients did and saw.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { client, xml, type Element, type XmppClient } from '@xmpp/client';
import { Inbox, within } from './inbox.js';
import { acceptFiles, sendFile } from './xmpp-file.js';
import { generateBytes, hashes } from './dcc.js';
import type { XmppUser } from './xmpp-server.js';

export interface XmppAccount {
  username: string;
  password: string;
  bareJid: string;
  /** As bound by the server. */
  fullJid: string;
  resource: string;
  /** The SASL mechanism used (PLAIN: the credentials are on the wire in base64). */
  mechanism: string;
  /** The client's TCP port towards the server. */
  clientPort: number;
}

export interface XmppRosterItem {
  /** Bare JID whose roster this is. */
  owner: string;
  jid: string;
  name?: string;
  groups: string[];
  subscription: string;
}

export interface XmppSubscription {
  from: string;
  to: string;
  type: 'subscribe' | 'subscribed';
  at: number;
}

export interface XmppMucEvent {
  room: string;
  nick: string;
  /** The occupant's real full JID. */
  jid: string;
  action: 'join' | 'leave';
  at: number;
}

export type XmppMessageType = 'chat' | 'groupchat' | 'headline' | 'normal';

export interface XmppLoggedMessage {
  /** The id as sent (a room's subject change reaches the occupants without it). */
  id: string;
  /** The sender's full JID as bound. */
  from: string;
  /** As addressed: a bare JID, or the room's bare JID for groupchat. */
  to: string;
  type: XmppMessageType;
  /** Absent for a subject-only groupchat message (a room subject change). */
  body?: string;
  subject?: string;
  thread?: string;
  at: number;
  /** Full JIDs of the clients that received it (for groupchat: every occupant, the sender included). */
  receivedBy: string[];
  /** The from attribute as the recipients saw it (room/nick for groupchat, the full JID otherwise). */
  receivedFrom: string;
}

export interface XmppFile {
  from: string;
  to: string;
  sid: string;
  name: string;
  size: number;
  sha256: string;
  md5: string;
  mimeType: string;
  desc: string;
  /** The negotiated stream method (XEP-0047's namespace). */
  method: string;
  blockSize: number;
  chunks: number;
  /** The generated file, kept in the run dir. */
  path: string;
  at: number;
}

export interface XmppLog {
  server: { host: string; port: number; domain: string; mucDomain: string };
  accounts: XmppAccount[];
  /** Every roster as fetched at the end. */
  roster: XmppRosterItem[];
  subscriptions: XmppSubscription[];
  muc: XmppMucEvent[];
  messages: XmppLoggedMessage[];
  files: XmppFile[];
}

export interface XmppScenarioOptions {
  host: string;
  port: number;
  domain: string;
  mucDomain: string;
  dir: string;
  /** File size in bytes; default 200 KiB. */
  fileSize?: number;
  stepTimeoutMs?: number;
}

/** The accounts the server must have (run.ts registers them before starting prosody). */
export const XMPP_USERS: XmppUser[] = [
  { username: 'alice', password: 'alice-Passw0rt' },
  { username: 'bob', password: 'bob-Passw0rt' },
  { username: 'carol', password: 'carol-Passw0rt' },
];

const RESOURCES: Record<string, string> = { alice: 'laptop', bob: 'phone', carol: 'desk' };
const NAMES: Record<string, string> = { alice: 'Alice Ärger', bob: 'Bob Bäcker', carol: 'Carol 陈' };
const ROOM_NICKS: Record<string, string> = { alice: 'Alice', bob: 'Bob', carol: 'Carol' };

export const XMPP_TEXTS = {
  status: 'Verfügbar ✓',
  aliceToBob: 'Hallo Bob! Grüße — 你好 ✓',
  bobToAlice: 'Hi Alice, ça va? 😀',
  carolToAlice: 'Привет, Alice — 日本語 ✓',
  roomSubject: 'Thema: Grüße aus dem Test ✓',
  roomAlice: 'Hallo zusammen — 你好 ✓',
  roomBob: 'Servus! 👋 Ünïcödé',
  headlineSubject: 'Eilmeldung ✓',
  headlineBody: 'Der Server läuft — 服务器 ✓',
  normalSubject: 'Betreff: Übergabe',
  normalBody: 'Liebe Carol, anbei die Notizen. Grüße, Bob ✓',
  fileDesc: 'Testdatei — 测试 ✓',
} as const;

interface Peer {
  user: XmppUser;
  c: XmppClient;
  inbox: Inbox<Element>;
  bare: string;
  full: string;
  files: ReturnType<typeof acceptFiles>;
  mechanism: string;
}

const NS_ROSTER = 'jabber:iq:roster';
const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';

const bareOf = (j: string | undefined) => (j ?? '').split('/')[0] ?? '';

async function connect(opts: XmppScenarioOptions, user: XmppUser, errors: string[], step: number): Promise<Peer> {
  let mechanism = '';
  const c = client({
    service: `xmpp://${opts.host}:${opts.port}`,
    domain: opts.domain,
    resource: RESOURCES[user.username] ?? 'e2e',
    // @xmpp/client prefers SCRAM-SHA-1 and never picks PLAIN on an unencrypted stream by itself; the harness wants
    // PLAIN on the wire, as an old or careless client on a plaintext server sends it.
    credentials: async (authenticate, mechanisms) => {
      if (!mechanisms.includes('PLAIN')) throw new Error(`server offers no PLAIN: ${mechanisms.join(' ')}`);
      mechanism = 'PLAIN';
      await authenticate({ username: user.username, password: user.password }, 'PLAIN');
    },
  });
  // A reconnect would add a second stream the log does not describe.
  c.reconnect.stop();
  const inbox = new Inbox<Element>(`xmpp ${user.username}`, (el) => el.toString());
  c.on('stanza', (el) => inbox.push(el));
  c.on('error', (err) => errors.push(`${user.username}: ${err.message}`));
  // Roster pushes (RFC 6121 §2.1.6) must be answered with a result, or the server logs an error reply.
  c.iqCallee.set(NS_ROSTER, 'query', () => true);
  const files = acceptFiles(c);
  const jid = await within(c.start(), step, `log-in of ${user.username}`);
  const full = jid.toString();
  return { user, c, inbox, bare: bareOf(full), full, files, mechanism };
}

/** An iq round trip to the server: everything this client sent before has been processed when it returns. */
async function barrier(p: Peer, domain: string, step: number): Promise<void> {
  await p.c.iqCaller.request(xml('iq', { type: 'get', to: domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })), step);
}

export async function runXmppClients(opts: XmppScenarioOptions): Promise<XmppLog> {
  const step = opts.stepTimeoutMs ?? 10_000;
  const errors: string[] = [];
  const log: XmppLog = {
    server: { host: opts.host, port: opts.port, domain: opts.domain, mucDomain: opts.mucDomain },
    accounts: [],
    roster: [],
    subscriptions: [],
    muc: [],
    messages: [],
    files: [],
  };
  const peers: Peer[] = [];
  try {
    for (const u of XMPP_USERS) {
      const p = await connect(opts, u, errors, step);
      peers.push(p);
      log.accounts.push({
        username: u.username,
        password: u.password,
        bareJid: p.bare,
        fullJid: p.full,
        resource: p.full.slice(p.bare.length + 1),
        mechanism: p.mechanism,
        clientPort: p.c.socket?.localPort ?? 0,
      });
      // What a client does first: fetch the roster, then send initial presence.
      await p.c.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })), step);
      await p.c.send(xml('presence', {}, xml('status', {}, XMPP_TEXTS.status), xml('priority', {}, '5')));
      await barrier(p, opts.domain, step);
    }
    const [alice, bob, carol] = peers as [Peer, Peer, Peer];

    await subscribeBoth(alice, bob, log, step);
    await subscribeBoth(alice, carol, log, step);

    const send = async (
      from: Peer,
      to: string,
      type: XmppMessageType,
      content: { body?: string; subject?: string; thread?: string },
      receivers: Peer[],
      receivedFrom: string,
    ) => {
      const id = `m-${crypto.randomBytes(6).toString('hex')}`;
      const at = Date.now();
      await from.c.send(
        xml(
          'message',
          { type, to, id },
          content.subject !== undefined ? xml('subject', {}, content.subject) : undefined,
          content.body !== undefined ? xml('body', {}, content.body) : undefined,
          content.thread !== undefined ? xml('thread', {}, content.thread) : undefined,
        ),
      );
      await Promise.all(
        receivers.map((r) =>
          r.inbox.waitFor(
            (el) =>
              el.is('message') &&
              // prosody's MUC sends a subject change on without the sender's id (mod_muc set_subject builds a new
              // stanza), so a subject-only message is matched by its subject.
              (el.attrs.id === id || content.body === undefined) &&
              el.attrs.from === receivedFrom &&
              (content.body === undefined || el.getChildText('body') === content.body) &&
              (content.subject === undefined || el.getChildText('subject') === content.subject),
            `${type} message ${id} from ${receivedFrom}`,
            step,
          ),
        ),
      );
      log.messages.push({ id, from: from.full, to, type, ...content, at, receivedBy: receivers.map((r) => r.full), receivedFrom });
    };

    await send(alice, bob.bare, 'chat', { body: XMPP_TEXTS.aliceToBob, thread: 'thread-e2e-1' }, [bob], alice.full);
    await send(bob, alice.bare, 'chat', { body: XMPP_TEXTS.bobToAlice, thread: 'thread-e2e-1' }, [alice], bob.full);
    await send(carol, alice.bare, 'chat', { body: XMPP_TEXTS.carolToAlice }, [alice], carol.full);

    // MUC: join one at a time; each waits for its own presence (status 110) and the occupants already there see it.
    const room = `lobby@${opts.mucDomain}`;
    const occupants: Peer[] = [];
    for (const p of peers) {
      const nick = ROOM_NICKS[p.user.username] ?? p.user.username;
      const at = Date.now();
      await p.c.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: '0' }))));
      await p.inbox.waitFor(
        (el) => el.is('presence') && el.attrs.from === `${room}/${nick}` && el.attrs.type === undefined && isSelfPresence(el),
        `own presence in ${room}`,
        step,
      );
      await Promise.all(
        occupants.map((q) => q.inbox.waitFor((el) => el.is('presence') && el.attrs.from === `${room}/${nick}` && el.attrs.type === undefined, `${nick} joining`, step)),
      );
      occupants.push(p);
      log.muc.push({ room, nick, jid: p.full, action: 'join', at });
    }
    await send(alice, room, 'groupchat', { subject: XMPP_TEXTS.roomSubject }, occupants, `${room}/Alice`);
    await send(alice, room, 'groupchat', { body: XMPP_TEXTS.roomAlice }, occupants, `${room}/Alice`);
    await send(bob, room, 'groupchat', { body: XMPP_TEXTS.roomBob }, occupants, `${room}/Bob`);
    {
      const at = Date.now();
      await carol.c.send(xml('presence', { to: `${room}/Carol`, type: 'unavailable' }));
      await Promise.all(
        occupants.map((q) => q.inbox.waitFor((el) => el.is('presence') && el.attrs.from === `${room}/Carol` && el.attrs.type === 'unavailable', 'Carol leaving', step)),
      );
      log.muc.push({ room, nick: 'Carol', jid: carol.full, action: 'leave', at });
    }

    await send(alice, bob.bare, 'headline', { subject: XMPP_TEXTS.headlineSubject, body: XMPP_TEXTS.headlineBody }, [bob], alice.full);
    await send(bob, carol.bare, 'normal', { subject: XMPP_TEXTS.normalSubject, body: XMPP_TEXTS.normalBody }, [carol], bob.full);

    log.files.push(await fileTransfer(alice, bob, opts, step));

    for (const p of peers) {
      const res = await p.c.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })), step);
      for (const item of res.getChild('query', NS_ROSTER)?.getChildren('item') ?? []) {
        const name = item.attrs.name;
        log.roster.push({
          owner: p.bare,
          jid: item.attrs.jid ?? '',
          ...(name !== undefined ? { name } : {}),
          groups: item.getChildren('group').map((g) => g.text()),
          subscription: item.attrs.subscription ?? 'none',
        });
      }
    }

    // Log-out as a client does it: unavailable presence, then the stream close (xmpp.stop waits for the server's).
    for (const p of peers) {
      await p.c.send(xml('presence', { type: 'unavailable' }));
      await within(p.c.stop(), step, `log-out of ${p.user.username}`);
    }
    if (errors.length > 0) throw new Error(`client errors: ${errors.join('; ')}`);
    return log;
  } catch (err) {
    if (errors.length > 0 && err instanceof Error) err.message += `\nclient errors: ${errors.join('; ')}`;
    throw err;
  } finally {
    for (const p of peers) {
      if (p.c.status !== 'offline') p.c.socket?.destroy();
    }
  }
}

function isSelfPresence(el: Element): boolean {
  return (el.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).some((s) => s.attrs.code === '110');
}

/** Roster item and presence subscriptions both ways (RFC 6121 §3), until both rosters say subscription="both". */
async function subscribeBoth(a: Peer, b: Peer, log: XmppLog, step: number): Promise<void> {
  const rosterSet = (p: Peer, other: Peer) =>
    p.c.iqCaller.request(
      xml(
        'iq',
        { type: 'set' },
        xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: other.bare, name: NAMES[other.user.username] }, xml('group', {}, 'Freunde ✓'))),
      ),
      step,
    );
  const presence = async (from: Peer, to: Peer, type: 'subscribe' | 'subscribed') => {
    log.subscriptions.push({ from: from.bare, to: to.bare, type, at: Date.now() });
    await from.c.send(xml('presence', { to: to.bare, type }));
  };
  const gets = (p: Peer, from: Peer, type: string) =>
    p.inbox.waitFor((el) => el.is('presence') && el.attrs.type === type && bareOf(el.attrs.from) === from.bare, `presence ${type} from ${from.bare}`, step);
  const both = (p: Peer, other: Peer) =>
    p.inbox.waitFor(
      (el) =>
        el.is('iq') &&
        el.attrs.type === 'set' &&
        (el.getChild('query', NS_ROSTER)?.getChildren('item') ?? []).some((i) => i.attrs.jid === other.bare && i.attrs.subscription === 'both'),
      `roster push: ${other.bare} subscription both`,
      step,
    );
  await rosterSet(a, b);
  await rosterSet(b, a);
  await presence(a, b, 'subscribe');
  await gets(b, a, 'subscribe');
  await presence(b, a, 'subscribed');
  await gets(a, b, 'subscribed');
  await presence(b, a, 'subscribe');
  await gets(a, b, 'subscribe');
  await presence(a, b, 'subscribed');
  await gets(b, a, 'subscribed');
  await Promise.all([both(a, b), both(b, a)]);
}

async function fileTransfer(from: Peer, to: Peer, opts: XmppScenarioOptions, step: number): Promise<XmppFile> {
  const size = opts.fileSize ?? 200 * 1024;
  const name = 'imtap-e2e-ibb.bin';
  const data = generateBytes(size, `imtap e2e ibb ${size}`);
  const file = path.join(opts.dir, name);
  fs.writeFileSync(file, data);
  const at = Date.now();
  const sent = await sendFile(from.c, to.full, data, {
    name,
    mimeType: 'application/octet-stream',
    desc: XMPP_TEXTS.fileDesc,
    blockSize: 4096,
    timeoutMs: step,
  });
  const got = await to.files.received(sent.sid, step);
  if (!got.data.equals(data)) throw new Error(`IBB: received ${got.data.length} bytes that differ from the ${size}-byte file`);
  if (got.offer.size !== size || got.offer.name !== name) throw new Error(`IBB: offer arrived as ${got.offer.name} ${got.offer.size}`);
  const h = hashes(got.data);
  if (got.offer.md5 !== h.md5) throw new Error(`IBB: offered md5 ${got.offer.md5}, received content ${h.md5}`);
  if (got.chunks !== sent.chunks) throw new Error(`IBB: sent ${sent.chunks} chunks, received ${got.chunks}`);
  return {
    from: from.full,
    to: to.full,
    sid: sent.sid,
    name,
    size,
    ...h,
    mimeType: got.offer.mimeType,
    desc: got.offer.desc,
    method: sent.method,
    blockSize: sent.blockSize,
    chunks: sent.chunks,
    path: file,
    at,
  };
}

#!/usr/bin/env node
/**
 * Builds fixtures/pcaps/demo/office-day.pcapng: one office working day (2024-03-12, 09:00–18:00 UTC) made of
 *
 * 1. clear-text IM that this script produces itself: real servers (ngircd, prosody) and real client libraries
 *    (irc-framework, @xmpp/client) on loopback, captured by tcpdump, with synthetic office messages written below;
 * 2. the shared captures (fixtures/pcaps/built, msnp, oscar, apps), time-shifted with `editcap -t` into the day.
 *
 * Addresses are rewritten (rewritePcap below: what `tcprewrite --pnat --fixcsum` does, without its padding bug) so
 * that the office clients are 10.1.0.11–17 (see people.csv).
 * On loopback every client would be 127.0.0.1, so each simulated person connects from an address of its own in
 * 127.1.0.0/24 (any 127/8 address is local on Linux), which maps one to one onto 10.1.0.0/24.
 *
 * Writes, next to the capture, office-day.expected.json: every message the clients sent (protocol, sender,
 * recipient, kind, text, time in the day), the files sent, and each part's source and time shift. The test
 * test/demo/demo.test.ts compares imtap's rows with it.
 *
 * Usage (root: tcpdump on lo; Debian packages ngircd, prosody, tcpdump, tshark):
 *   node scripts/make-demo.mjs [OUT_DIR]        (default fixtures/pcaps/demo)
 * The committed capture is the reviewed result of one run; a re-run gives the same messages, files, addresses,
 * ports and times to the second (client ports and sub-second timing differ).
 */
import { spawnSync, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The e2e harness is TypeScript: run this script again under tap's ts-node loader (transpile only).
if (process.env.IMTAP_DEMO_LOADER !== '1') {
  const r = spawnSync(process.execPath, ['--import', '@tapjs/typescript/import', '--no-warnings', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, IMTAP_DEMO_LOADER: '1', TS_NODE_TRANSPILE_ONLY: '1', TS_NODE_PROJECT: path.join(root, 'tsconfig.json') },
  });
  process.exit(r.status ?? 1);
}

const lib = (f) => import(path.join(root, 'test/e2e/lib', f));
const { startIrcServer } = await lib('irc-server.js');
const { startXmppServer } = await lib('xmpp-server.js');
const { startCapture, portFilter } = await lib('capture.js');
const { freePorts } = await lib('proc.js');
const { Inbox, within } = await lib('inbox.js');
const { dccServe, dccReceive, generateBytes, hashes, ipv4ToDecimal } = await lib('dcc.js');
const { acceptFiles, sendFile } = await lib('xmpp-file.js');
const { Client } = await import('irc-framework');
const { client: xmppClient, xml } = await import('@xmpp/client');

const outDir = path.resolve(process.argv[2] ?? path.join(root, 'fixtures/pcaps/demo'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-demo-'));
const DAY = '2024-03-12';
const at = (hhmmss) => Date.parse(`${DAY}T${hhmmss}Z`) / 1000;
const STEP = 10_000;

// ---------------------------------------------------------------------------------------------------------------
// Who is who (people.csv says the same). Loopback source address → office address.
const PEOPLE = {
  anna: { name: 'Anna Berg', lo: '127.1.0.11', ip: '10.1.0.11' },
  ben: { name: 'Ben Okafor', lo: '127.1.0.12', ip: '10.1.0.12' },
  chloe: { name: 'Chloé Martin', lo: '127.1.0.13', ip: '10.1.0.13' },
};
const IRC_SERVER_IP = '10.1.0.2';
const XMPP_SERVER_IP = '10.1.0.3';
const XMPP_DOMAIN = 'office.example';
const CHANNEL = '#office';
const ROOM = `team@conference.${XMPP_DOMAIN}`;
/** DCC as announced: the sender's office address and this port (the real listener is mapped onto it). */
const DCC_PORT = 5050;

// Every connection made while `localAddress` is set leaves from that address (irc-framework's outgoing_addr does
// the same for IRC; @xmpp/client and the DCC receiver have no such option).
let localAddress = null;
const connect0 = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // net.connect() passes its normalised arguments as an array (options first) marked with a private symbol: keep
  // that array and set the option inside it.
  const holder = Array.isArray(args[0]) ? args[0] : args;
  const opts = holder[0];
  if (localAddress !== null && opts !== null && typeof opts === 'object' && opts.localAddress == null) {
    holder[0] = { ...opts, localAddress };
  }
  return connect0.apply(this, args);
};

const expected = { day: DAY, messages: [], files: [], parts: [] };

// ---------------------------------------------------------------------------------------------------------------
// IRC: the morning stand-up chat on the office IRC server.
async function ircSession(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const [ircPort, dccPort] = await freePorts(2);
  const pcap = path.join(dir, 'irc.pcap');
  const server = await startIrcServer(dir, { port: ircPort });
  const log = { messages: [], files: [] };
  const peers = {};
  try {
    const capture = await startCapture(pcap, portFilter([ircPort, dccPort]));
    try {
      for (const nick of ['anna', 'ben', 'chloe']) {
        const inbox = new Inbox(`irc ${nick}`);
        const c = new Client();
        c.on('registered', () => inbox.push({ type: 'registered' }));
        for (const kind of ['privmsg', 'action']) c.on(kind, (e) => !e.from_server && inbox.push({ type: kind, from: e.nick, to: e.target, text: e.message }));
        c.on('ctcp request', (e) => inbox.push({ type: 'ctcp', from: e.nick, ctcp: e.type, text: e.message }));
        c.on('join', (e) => inbox.push({ type: 'join', nick: e.nick }));
        c.on('quit', (e) => inbox.push({ type: 'quit', nick: e.nick }));
        c.on('socket close', () => inbox.push({ type: 'close' }));
        c.connect({
          host: '127.0.0.1',
          port: ircPort,
          nick,
          username: nick,
          gecos: PEOPLE[nick].name,
          outgoing_addr: PEOPLE[nick].lo,
          encoding: 'utf8',
          auto_reconnect: false,
          ping_interval: 0,
          ping_timeout: 0,
          version: null,
        });
        peers[nick] = { c, inbox };
        await inbox.waitFor((e) => e.type === 'registered', `${nick} registered`, STEP);
      }
      const all = Object.keys(peers);
      for (const [i, nick] of all.entries()) {
        peers[nick].c.join(CHANNEL);
        await Promise.all(all.slice(0, i + 1).map((n) => peers[n].inbox.waitFor((e) => e.type === 'join' && e.nick === nick, `JOIN ${nick}`, STEP)));
      }
      const say = async (from, to, text, kind = 'privmsg') => {
        const receivers = to.startsWith('#') ? all.filter((n) => n !== from) : [to];
        const t = Date.now();
        if (kind === 'action') peers[from].c.action(to, text);
        else peers[from].c.say(to, text);
        await Promise.all(receivers.map((r) => peers[r].inbox.waitFor((e) => e.type === kind && e.from === from && e.to === to && e.text === text, `${from} → ${to}`, STEP)));
        log.messages.push({ protocol: 'irc', kind, sender: from, recipient: to, text, receivers, at: t / 1000 });
        await pause(150);
      };
      await say('anna', CHANNEL, 'Good morning, everyone! Stand-up in five minutes.');
      await say('ben', CHANNEL, "Morning! I'll join from the lab today.");
      await say('chloe', CHANNEL, 'Reminder: the Project Falcon review moved to Thursday 14:00.');
      await say('ben', 'anna', 'Could you send me the Q2 sales forecast before lunch?');
      await say('anna', 'ben', "Sure, I'll have it to you by noon.");
      await say('chloe', 'ben', 'Sending you the test logs by DCC now.');
      // DCC SEND chloe → ben: the offer names chloe's office address and DCC_PORT; ben connects to the listener.
      {
        const name = 'test-logs-0312.tar.gz';
        const size = 48 * 1024;
        const data = generateBytes(size, 'imtap demo office day dcc');
        const t = Date.now();
        const serving = dccServe(data, PEOPLE.chloe.lo, dccPort, 30_000);
        await within(serving.listening, STEP, 'DCC listener');
        peers.chloe.c.ctcpRequest('ben', 'DCC', 'SEND', name, ipv4ToDecimal(PEOPLE.chloe.ip), DCC_PORT, size);
        await peers.ben.inbox.waitFor((e) => e.type === 'ctcp' && e.ctcp === 'DCC' && e.from === 'chloe', 'DCC offer', STEP);
        localAddress = PEOPLE.ben.lo;
        let got;
        try {
          got = await dccReceive(PEOPLE.chloe.lo, dccPort, size, 30_000);
        } finally {
          localAddress = null;
        }
        await serving.done;
        if (!got.data.equals(data)) throw new Error('DCC: received bytes differ');
        log.files.push({ protocol: 'irc', method: 'dcc', sender: 'chloe', recipient: 'ben', name, size, ...hashes(data), at: t / 1000 });
        await pause(150);
      }
      await say('ben', 'chloe', 'Got the logs, thanks!');
      await say('anna', CHANNEL, 'grabs a coffee before the stand-up', 'action');
      for (const [i, nick] of all.entries()) {
        peers[nick].c.quit('Leaving');
        await Promise.all([
          peers[nick].inbox.waitFor((e) => e.type === 'close', `close ${nick}`, STEP),
          ...all.slice(i + 1).map((n) => peers[n].inbox.waitFor((e) => e.type === 'quit' && e.nick === nick, `QUIT ${nick}`, STEP)),
        ]);
      }
    } finally {
      for (const p of Object.values(peers)) p.c.connection.transport?.socket?.destroy();
      await pause(300);
      await capture.stop();
    }
  } finally {
    await server.stop();
  }
  return { pcap, log, ports: { [ircPort]: 6667, [dccPort]: DCC_PORT } };
}

// ---------------------------------------------------------------------------------------------------------------
// XMPP: the afternoon on the office XMPP server: private chats, the team room, a file by in-band bytestreams.
async function xmppSession(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const [port] = await freePorts(1);
  const pcap = path.join(dir, 'xmpp.pcap');
  const users = Object.keys(PEOPLE).map((u) => ({ username: u, password: `${u}-office-Passw0rd` }));
  const server = await startXmppServer(dir, { port, domain: XMPP_DOMAIN, users });
  const log = { messages: [], files: [] };
  const peers = {};
  try {
    const capture = await startCapture(pcap, portFilter([port]));
    try {
      for (const u of users) {
        const c = xmppClient({ service: `xmpp://127.0.0.1:${port}`, domain: XMPP_DOMAIN, resource: 'desktop', username: u.username, password: u.password });
        c.reconnect.stop();
        const inbox = new Inbox(`xmpp ${u.username}`, (el) => el.toString());
        c.on('stanza', (el) => inbox.push(el));
        c.on('error', () => undefined);
        c.iqCallee.set('jabber:iq:roster', 'query', () => true);
        const files = acceptFiles(c);
        localAddress = PEOPLE[u.username].lo;
        let jid;
        try {
          jid = await within(c.start(), STEP, `log-in of ${u.username}`);
        } finally {
          localAddress = null;
        }
        await c.send(xml('presence', {}, xml('status', {}, 'At my desk')));
        peers[u.username] = { c, inbox, files, full: jid.toString(), bare: `${u.username}@${XMPP_DOMAIN}` };
        await c.iqCaller.request(xml('iq', { type: 'get', to: XMPP_DOMAIN }, xml('ping', { xmlns: 'urn:xmpp:ping' })), STEP);
      }
      const chat = async (from, to, text) => {
        const id = `demo-${crypto.createHash('sha256').update(text).digest('hex').slice(0, 10)}`;
        const t = Date.now();
        await peers[from].c.send(xml('message', { type: 'chat', to: peers[to].bare, id }, xml('body', {}, text)));
        await peers[to].inbox.waitFor((el) => el.is('message') && el.attrs.id === id && el.getChildText('body') === text, `chat ${id}`, STEP);
        log.messages.push({ protocol: 'xmpp', kind: 'chat', sender: peers[from].bare, recipient: peers[to].bare, text, receivers: [peers[to].bare], at: t / 1000 });
        await pause(150);
      };
      const nicks = { anna: 'Anna', ben: 'Ben', chloe: 'Chloe' };
      const group = async (from, text) => {
        const id = `demo-${crypto.createHash('sha256').update(text).digest('hex').slice(0, 10)}`;
        const t = Date.now();
        await peers[from].c.send(xml('message', { type: 'groupchat', to: ROOM, id }, xml('body', {}, text)));
        await Promise.all(
          Object.values(peers).map((p) => p.inbox.waitFor((el) => el.is('message') && el.attrs.from === `${ROOM}/${nicks[from]}` && el.getChildText('body') === text, `groupchat ${id}`, STEP)),
        );
        log.messages.push({ protocol: 'xmpp', kind: 'groupchat', sender: peers[from].bare, recipient: ROOM, text, receivers: Object.values(peers).map((p) => p.bare), at: t / 1000 });
        await pause(150);
      };
      await chat('anna', 'ben', 'Are you joining the customer call at three?');
      await chat('ben', 'anna', "Yes, I'll bring the demo laptop.");
      await chat('chloe', 'anna', 'The Falcon budget sheet is ready for your review.');
      for (const u of Object.keys(peers)) {
        const nick = nicks[u];
        await peers[u].c.send(xml('presence', { to: `${ROOM}/${nick}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' }, xml('history', { maxstanzas: '0' }))));
        await peers[u].inbox.waitFor((el) => el.is('presence') && el.attrs.from === `${ROOM}/${nick}` && el.attrs.type === undefined, `${nick} in the room`, STEP);
      }
      await group('anna', 'Welcome to the team room.');
      await group('ben', 'Project Falcon kickoff slides are in the shared drive.');
      await group('chloe', 'Thanks Ben, I will go through them tonight.');
      {
        const name = 'forecast-q2.xlsx';
        const size = 24 * 1024;
        const data = generateBytes(size, 'imtap demo office day ibb');
        const t = Date.now();
        const sent = await sendFile(peers.anna.c, peers.ben.full, data, { name, mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', desc: 'Q2 sales forecast', blockSize: 4096, timeoutMs: STEP });
        const got = await peers.ben.files.received(sent.sid, STEP);
        if (!got.data.equals(data)) throw new Error('IBB: received bytes differ');
        log.files.push({ protocol: 'xmpp', method: 'ibb', sender: peers.anna.bare, recipient: peers.ben.bare, name, size, ...hashes(data), at: t / 1000 });
        await pause(150);
      }
      await chat('ben', 'anna', 'Forecast received, thank you.');
      for (const p of Object.values(peers)) {
        await p.c.send(xml('presence', { type: 'unavailable' }));
        await within(p.c.stop(), STEP, 'log-out');
      }
    } finally {
      for (const p of Object.values(peers)) if (p.c.status !== 'offline') p.c.socket?.destroy();
      await pause(300);
      await capture.stop();
    }
  } finally {
    await server.stop();
  }
  return { pcap, log, ports: { [port]: 5222 } };
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// Time shifting and address rewriting.
const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Epoch seconds (as a decimal string and a number) of a capture's first packet, from capinfos. */
function firstPacket(file) {
  const out = run('capinfos', ['-T', '-r', '-a', '-S', file]).trim().split('\t');
  return out[out.length - 1];
}

/** Exact decimal difference target − first (both with up to 9 fractional digits), as editcap -t wants it. */
function shiftFor(file, target) {
  const first = firstPacket(file);
  const [w, f = ''] = first.split('.');
  const ns = BigInt(w) * 1_000_000_000n + BigInt(f.padEnd(9, '0').slice(0, 9));
  const d = BigInt(Math.round(target)) * 1_000_000_000n - ns;
  const neg = d < 0n;
  const a = neg ? -d : d;
  return { first: Number(first), shift: `${neg ? '-' : ''}${a / 1_000_000_000n}.${(a % 1_000_000_000n).toString().padStart(9, '0')}` };
}

/**
 * Rewrites IPv4 addresses (exact addresses, both directions) and TCP/UDP ports of an Ethernet pcap, with the IPv4
 * header checksum and the TCP/UDP checksum computed again (fully when the whole segment was captured, else
 * adjusted as RFC 1624 says). This is what `tcprewrite --pnat --portmap --fixcsum` would do, but tcprewrite 4.4.3
 * also "fixes" the IP total length of every frame with Ethernet padding (a 60-byte frame carrying a 40-byte SYN
 * gets IP length 46, i.e. 6 bytes of payload that were never sent), which broke the OSCAR flow here.
 */
function rewritePcap(inFile, outFile, ipmap, portmap) {
  const buf = Buffer.from(fs.readFileSync(inFile));
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${inFile}: not a pcap file`);
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  if (u32(20) !== 1) throw new Error(`${inFile}: link type ${u32(20)}, only Ethernet (1) is rewritten`);
  const ips = new Map(Object.entries(ipmap).map(([a, b]) => [a, Buffer.from(b.split('.').map(Number))]));
  const ports = new Map(Object.entries(portmap).map(([a, b]) => [Number(a), Number(b)]));
  for (let off = 24; off + 16 <= buf.length; ) {
    const incl = u32(off + 8);
    rewriteFrame(buf.subarray(off + 16, off + 16 + incl), ips, ports);
    off += 16 + incl;
  }
  fs.writeFileSync(outFile, buf);
}

/** Ones' complement sum of 16-bit big-endian words (an odd last byte padded with zero). */
function sum16(b, acc = 0) {
  for (let i = 0; i + 1 < b.length; i += 2) acc += b.readUInt16BE(i);
  if (b.length % 2 === 1) acc += b[b.length - 1] << 8;
  return acc;
}
const fold = (s) => {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
};

function rewriteFrame(f, ips, ports) {
  let l3 = 14;
  let type = f.length >= 14 ? f.readUInt16BE(12) : 0;
  if (type === 0x8100 && f.length >= 18) {
    type = f.readUInt16BE(16);
    l3 = 18;
  }
  if (type !== 0x0800 || f.length < l3 + 20) return;
  const ihl = (f[l3] & 15) * 4;
  const total = f.readUInt16BE(l3 + 2);
  const proto = f[l3 + 9];
  const l4 = l3 + ihl;
  // 16-bit words that change, for the RFC 1624 update of a checksum over a segment not captured whole.
  const changes = [];
  for (const at of [l3 + 12, l3 + 16]) {
    const to = ips.get(`${f[at]}.${f[at + 1]}.${f[at + 2]}.${f[at + 3]}`);
    if (!to) continue;
    changes.push([f.readUInt16BE(at), to.readUInt16BE(0)], [f.readUInt16BE(at + 2), to.readUInt16BE(2)]);
    to.copy(f, at);
  }
  const firstFragment = (f.readUInt16BE(l3 + 6) & 0x1fff) === 0;
  const tcp = proto === 6 && f.length >= l4 + 18;
  const udp = proto === 17 && f.length >= l4 + 8;
  if (firstFragment && (tcp || udp)) {
    for (const at of [l4, l4 + 2]) {
      const to = ports.get(f.readUInt16BE(at));
      if (to === undefined) continue;
      changes.push([f.readUInt16BE(at), to]);
      f.writeUInt16BE(to, at);
    }
  }
  if (changes.length === 0) return;
  f.writeUInt16BE(0, l3 + 10);
  f.writeUInt16BE(~fold(sum16(f.subarray(l3, l4))) & 0xffff, l3 + 10);
  if (!firstFragment || !(tcp || udp)) return;
  const ck = l4 + (tcp ? 16 : 6);
  const old = f.readUInt16BE(ck);
  if (udp && old === 0) return; // no UDP checksum was sent
  const moreFragments = (f.readUInt16BE(l3 + 6) & 0x2000) !== 0;
  if (l3 + total <= f.length && !moreFragments) {
    f.writeUInt16BE(0, ck);
    const pseudo = sum16(f.subarray(l3 + 12, l3 + 20)) + proto + (total - ihl);
    let c = ~fold(sum16(f.subarray(l4, l3 + total), pseudo)) & 0xffff;
    if (udp && c === 0) c = 0xffff;
    f.writeUInt16BE(c, ck);
  } else {
    let s = ~old & 0xffff;
    for (const [m, m2] of changes) s += (~m & 0xffff) + m2;
    f.writeUInt16BE(~fold(s) & 0xffff, ck);
  }
}

let partNo = 0;
/**
 * One part of the day: optionally a tshark display filter to cut the source down, then a shift so that its first
 * packet is at `start` (HH:MM:SS on DAY), then the address map (and port map) applied by rewritePcap.
 */
function part({ source, start, filter, pnat = {}, portmap = {}, app, person, note }) {
  const n = String(++partNo).padStart(2, '0');
  let file = path.isAbsolute(source) ? source : path.join(root, source);
  if (filter) {
    const cut = path.join(work, `${n}-cut.pcap`);
    run('tshark', ['-r', file, '-Y', filter, '-F', 'pcap', '-w', cut]);
    file = cut;
  }
  const { first, shift } = shiftFor(file, at(start));
  const shifted = path.join(work, `${n}-shifted.pcap`);
  run('editcap', ['-F', 'pcap', '-t', shift, file, shifted]);
  let out = shifted;
  if (Object.keys(pnat).length > 0 || Object.keys(portmap).length > 0) {
    out = path.join(work, `${n}-rewritten.pcap`);
    rewritePcap(shifted, out, pnat, portmap);
  }
  const packets = Number(run('capinfos', ['-T', '-r', '-c', out]).trim().split('\t').pop());
  expected.parts.push({
    part: Number(n),
    source: path.isAbsolute(source) ? path.basename(source) : source,
    ...(filter ? { filter } : {}),
    app,
    person,
    start: `${DAY}T${start}Z`,
    shiftSeconds: Number(shift),
    originalStart: new Date(first * 1000).toISOString(),
    packets,
    addresses: pnat,
    ...(Object.keys(portmap).length > 0 ? { ports: portmap } : {}),
    note,
  });
  return { out, shift: Number(shift) };
}

try {
  fs.mkdirSync(outDir, { recursive: true });
  const irc = await ircSession(path.join(work, 'irc'));
  const xmpp = await xmppSession(path.join(work, 'xmpp'));
  const lo = (server) => Object.fromEntries([['127.0.0.1', server], ...Object.values(PEOPLE).map((p) => [p.lo, p.ip])]);

  const parts = [
    part({ source: irc.pcap, start: '09:12:00', pnat: lo(IRC_SERVER_IP), portmap: irc.ports, app: 'irc', person: 'anna, ben, chloe', note: 'recorded by scripts/make-demo.mjs: ngircd + irc-framework, #office stand-up chat, private messages, a DCC SEND' }),
    part({ source: 'fixtures/pcaps/built/ymsg/ymsg-chat.pcap', start: '09:41:10', pnat: { '10.1.0.5': '10.1.0.14' }, app: 'yahoo', person: 'david' }),
    part({ source: 'fixtures/pcaps/built/sip/sip-register.pcap', start: '10:02:30', pnat: { '192.0.2.10': '10.1.0.16' }, app: 'sip', person: 'frank' }),
    part({ source: 'fixtures/pcaps/built/sip/sip-message-tcp.pcap', start: '10:03:05', pnat: { '192.0.2.10': '10.1.0.16' }, app: 'sip', person: 'frank' }),
    part({ source: 'fixtures/pcaps/apps/whatsapp_login_chat.pcap', start: '10:27:40', filter: 'ip.addr == 192.168.2.4 && !(ip.addr == 192.168.2.1)', pnat: { '192.168.2.4': '10.1.0.15' }, app: 'whatsapp', person: 'eva', note: 'packets of the phone only (no broadcasts or router traffic)' }),
    part({ source: 'fixtures/pcaps/msnp/msn-switchboard-chat.pcap', start: '11:08:20', pnat: { '192.168.0.114': '10.1.0.14' }, app: 'msn', person: 'david' }),
    part({ source: 'fixtures/pcaps/built/gadugadu/gg80-chat.pcap', start: '11:52:05', pnat: { '10.2.0.5': '10.1.0.16' }, app: 'gadugadu', person: 'frank' }),
    part({ source: 'fixtures/pcaps/apps/sites.pcapng', start: '12:31:15', filter: 'tcp.stream == 33', pnat: { '192.168.1.128': '10.1.0.12' }, app: 'teams', person: 'ben', note: 'one TLS connection to teams.office.com' }),
    part({ source: 'fixtures/pcaps/oscar/icq-oscar-on-443.pcapng', start: '13:14:50', pnat: { '10.30.29.3': '10.1.0.17' }, app: 'icq', person: 'gina' }),
    part({ source: xmpp.pcap, start: '14:05:00', pnat: lo(XMPP_SERVER_IP), portmap: xmpp.ports, app: 'xmpp', person: 'anna, ben, chloe', note: 'recorded by scripts/make-demo.mjs: prosody + @xmpp/client, chats, the team room, an in-band bytestream file' }),
    part({ source: 'fixtures/pcaps/apps/whatsapp_login_call.pcap', start: '14:47:30', filter: 'ip.addr == 192.168.2.4 && !(ip.addr == 192.168.2.1)', pnat: { '192.168.2.4': '10.1.0.15' }, app: 'whatsapp', person: 'eva', note: 'log-in and a voice call; packets of the phone only' }),
    part({ source: 'fixtures/pcaps/apps/stun_signal.pcapng', start: '15:22:10', pnat: { '192.168.12.169': '10.1.0.17' }, app: 'signal', person: 'gina', note: 'a Signal call (STUN/TURN, media)' }),
    part({ source: 'fixtures/pcaps/apps/sites.pcapng', start: '16:10:00', filter: 'tcp.stream == 46 || tcp.stream == 47 || tcp.stream == 48', app: 'telegram', person: 'gina', note: 'web.telegram.org, t.me, telegram.me over IPv6: the laptop keeps its IPv6 address (people.csv lists it)' }),
    part({ source: 'fixtures/pcaps/built/ymsg/ymsg-rooms-files.pcap', start: '16:38:45', pnat: { '10.1.0.5': '10.1.0.14' }, app: 'yahoo', person: 'david' }),
    part({ source: 'fixtures/pcaps/built/sip/sip-msrp.pcap', start: '17:26:00', pnat: { '192.0.2.10': '10.1.0.16' }, app: 'sip', person: 'frank' }),
  ];

  const out = path.join(outDir, 'office-day.pcapng');
  run('mergecap', ['-F', 'pcapng', '-w', out, ...parts.map((p) => p.out)]);

  // Message and file times in the day: the clients' clock plus the shift of their part.
  const ircShift = parts[0].shift;
  const xmppShift = parts[9].shift;
  const inDay = (s, shift) => new Date(Math.round((s + shift) * 1000)).toISOString();
  for (const [log, shift] of [[irc.log, ircShift], [xmpp.log, xmppShift]]) {
    for (const m of log.messages) expected.messages.push({ ...m, at: inDay(m.at, shift) });
    for (const f of log.files) expected.files.push({ ...f, at: inDay(f.at, shift) });
  }
  expected.capture = { file: 'office-day.pcapng', sha256: crypto.createHash('sha256').update(fs.readFileSync(out)).digest('hex'), bytes: fs.statSync(out).size };
  fs.writeFileSync(path.join(outDir, 'office-day.expected.json'), JSON.stringify(expected, null, 2) + '\n');
  console.log(`${out}: ${expected.capture.bytes} bytes, ${expected.parts.length} parts, ${expected.messages.length} messages sent, ${expected.files.length} files`);
} finally {
  net.Socket.prototype.connect = connect0;
  fs.rmSync(work, { recursive: true, force: true });
}

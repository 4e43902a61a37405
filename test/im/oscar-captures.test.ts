/**
 * OSCAR through the whole pipeline, checked against tshark's `aim` dissector (`-d tcp.port==N,aim`) as the oracle:
 * - the real capture fixtures/pcaps/oscar/icq-oscar-on-443.pcapng (ICQ in clear text on 443, with a hole in the
 *   middle): app icq, not TLS, the own UIN (self info 1/0x0F), both messages (text and charset as tshark sees the
 *   message block), both UINs as message parties, the typing notifications;
 * - hand-built conversations (test/im/builders/oscar.ts) written as pcaps: messages, SSI buddy list, typing,
 *   rendezvous offer address and port, MD5 login, on 5190, 443 and an unusual port;
 * - the same rows with every TCP payload cut into 1-byte segments; no OSCAR in any other capture folder.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { oscar, oscarOft } from '../../src/decoders/im/oscar/index.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { allCaptures, fixture, PCAPS, singleProtocolCaptures } from '../helpers/fixtures.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { tempDir } from '../helpers/temp.js';
import { Oscar, Toc } from './builders/oscar.js';

const REG = new Registry([oscar, oscarOft]);
const REAL = fixture('oscar/icq-oscar-on-443.pcapng');
const dir = tempDir('oscar-captures');

type Json = Record<string, unknown>;
interface Frame {
  /** Every field value in document order, by field name. */
  f: Map<string, unknown[]>;
  /** SNACs as family/subtype pairs. */
  snacs: [number, number][];
  /** Rendezvous TLVs by their tshark name ("Internal IP") → the text after "Value: ". */
  tlv: Map<string, string>;
}

/** tshark's decoding of `file` as AIM on `port`, one record per packet with AIM in it. */
function tshark(file: string, port: number): Frame[] {
  const out = execFileSync('tshark', ['-r', file, '-d', `tcp.port==${port},aim`, '-Y', 'aim', '-T', 'json', '-x', '--no-duplicate-keys'], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(out) as { _source: { layers: Json } }[]).map((p) => {
    const f = new Map<string, unknown[]>();
    const tlv = new Map<string, string>();
    const walk = (o: unknown, parent: string) => {
      if (typeof o !== 'object' || o === null || Array.isArray(o)) return;
      for (const [k, v] of Object.entries(o as Json)) {
        if (parent.startsWith('TLV: ') && k.startsWith('Value: ')) tlv.set(parent.slice(5), k.slice(7));
        // Several PDUs in one frame: duplicate keys become arrays (--no-duplicate-keys); raw fields are [hex, offset, …].
        const list = f.get(k) ?? [];
        f.set(k, list);
        if (k.endsWith('_raw') && Array.isArray(v)) for (const x of Array.isArray(v[0]) ? v : [v]) list.push((x as unknown[])[0]);
        else if (typeof v === 'string') list.push(v);
        else if (Array.isArray(v)) for (const x of v) typeof x === 'string' ? list.push(x) : walk(x, k);
        else walk(v, k);
      }
    };
    walk(p._source.layers, '');
    const fam = (f.get('aim.fnac.family') ?? []).map((x) => Number(x));
    const sub = (f.get('aim.fnac.subtype') ?? []).map((x) => Number(x));
    return { f, snacs: fam.map((x, i) => [x, sub[i]!] as [number, number]), tlv };
  });
}

const has = (fr: Frame, fam: number, sub: number) => fr.snacs.some(([a, b]) => a === fam && b === sub);
const first = (fr: Frame, k: string) => (fr.f.get(k) ?? [])[0] as string | undefined;

/**
 * What tshark says the messages are: direction, the peer's name, the text (tags and the basic entities removed here,
 * independently of imtap), and the bytes as sent when they are HTML (imtap keeps those in body_raw).
 */
function tsharkMessages(frames: Frame[]): string[] {
  const out: string[] = [];
  for (const fr of frames) {
    const out6 = has(fr, 4, 6);
    if (!out6 && !has(fr, 4, 7)) continue;
    const raw = first(fr, 'aim.messageblock.message_raw');
    if (raw === undefined) continue;
    const cs = Number(first(fr, 'aim.messageblock.charset'));
    const bytes = Buffer.from(raw, 'hex');
    const text = cs === 2 ? Buffer.from(bytes).swap16().toString('utf16le') : cs === 3 ? bytes.toString('latin1') : bytes.toString('utf8');
    const html = /<[^>]*>/.test(text);
    const plain = text.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    out.push(JSON.stringify([out6 ? 'c2s' : 's2c', first(fr, 'aim.buddyname'), plain, html ? raw : null]));
  }
  return out.sort();
}

type Row = Record<string, unknown>;
const hex = (v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : null);
function ourMessages(rows: Record<string, Row[]>): string[] {
  return (rows.messages ?? []).map((m) => JSON.stringify([m.direction, m.direction === 'c2s' ? m.recipient : m.sender, m.body, hex(m.body_raw)])).sort();
}

t.test('the real capture: ICQ on 443 in clear text, as tshark decodes it', async (t) => {
  const frames = tshark(REAL, 443);
  const r = await imPipeline(REAL, 0, null, REG);
  t.same(r.verdicts.map((v) => [v.protocol, v.app, v.encrypted, v.server_port]), [['oscar', 'icq', false, 443]]);
  t.equal(r.verdicts[0]!.confidence, 1);
  const own = first(frames.find((fr) => has(fr, 1, 0x0f))!, 'aim.buddyname');
  t.equal(own, '157901844', 'tshark: the self info names the own UIN');
  t.same((r.rows.accounts ?? []).map((a) => [a.account, a.auth, a.app]), [[own, 'cookie', 'icq']]);
  const theirs = tsharkMessages(frames);
  t.equal(theirs.length, 2, 'tshark: one message each way');
  t.same(ourMessages(r.rows), theirs, 'direction, peer, text and bytes as tshark has them');
  const msgs = r.rows.messages ?? [];
  const peer = first(frames.find((fr) => has(fr, 4, 6))!, 'aim.buddyname');
  t.same(msgs.map((m) => [m.direction, m.sender, m.recipient, m.body_format, m.kind]).sort(), [
    ['c2s', own, peer, 'html', 'im'],
    ['s2c', peer, own, 'html', 'im'],
  ]);
  const typing = frames.reduce((n, fr) => n + fr.snacs.filter(([a, b]) => a === 4 && b === 0x14).length, 0);
  t.equal((r.rows.events ?? []).filter((e) => e.event === 'typing').length, typing, `${typing} typing notifications, events not messages`);
  t.same((r.rows.events ?? []).filter((e) => e.event === 'login').map((e) => e.account), [own]);
  t.same(r.rows.anomalies ?? [], [], 'the hole in the capture is crossed without complaint');
});

function bosConversation(): Oscar {
  return new Oscar()
    .bosLogin('alice0')
    .ssi([[['bob', 1, 11, 0], ['carol', 2, 12, 0], ['Friends', 1, 0, 1], ['Work', 2, 0, 1]]])
    .send('bob', '<HTML><BODY>hi <B>bob</B> &amp; co</BODY></HTML>')
    .receive('bob', 'Grüße 你好', 'ucs2')
    .receive('carol', 'plain latin1 é', 'latin1')
    .typing(0, 'bob', 2)
    .typing(1, 'bob', 0)
    .fileOffer(0, 'bob', { cookie: 'ck000001', ip: '10.0.0.5', port: 5200, filename: 'notes.txt', size: 1234 })
    .arrived('carol');
}

function write(name: string, parts: [0 | 1, Uint8Array][], sport: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, conversationPcap([{ client: '10.0.0.5', server: '10.0.0.9', cport: 40000, sport, parts }]));
  return file;
}

for (const port of [5190, 443, 40123]) {
  t.test(`built BOS conversation on port ${port} agrees with tshark`, async (t) => {
    const file = write(`bos-${port}.pcap`, bosConversation().parts, port);
    const frames = tshark(file, port);
    const r = await imPipeline(file, 0, null, REG);
    t.same(r.verdicts.map((v) => [v.protocol, v.app, v.method, v.confidence]), [['oscar', 'aim', 'payload', 1]]);
    t.same(ourMessages(r.rows), tsharkMessages(frames));
    t.equal((r.rows.messages ?? []).length, 3);
    // SSI: buddies (type 0) with the group (type 1) of the same group id, as tshark lists the entries.
    const ssi = frames.find((fr) => has(fr, 0x13, 6))!;
    const names = ssi.f.get('aim_ssi.fnac.buddyname') as string[];
    const types = (ssi.f.get('aim_ssi.fnac.type') as string[]).map(Number);
    const gids = (ssi.f.get('aim_ssi.fnac.gid') as string[]).map(Number);
    const group = (gid: number) => names.find((_n, i) => types[i] === 1 && gids[i] === gid) ?? null;
    const expected = names.flatMap((n, i) => (types[i] === 0 ? [[n, group(gids[i]!)]] : [])).sort();
    t.same((r.rows.contacts ?? []).map((c) => [c.contact, c.group_name]).sort(), expected);
    const typing = frames.reduce((n, fr) => n + fr.snacs.filter(([a, b]) => a === 4 && b === 0x14).length, 0);
    t.equal((r.rows.events ?? []).filter((e) => e.event === 'typing').length, typing);
    const rv = frames.find((fr) => first(fr, 'aim_messaging.rendezvous.msg_type') !== undefined)!;
    const offer = (r.rows.events ?? []).find((e) => e.event === 'file_offer')!;
    t.ok(String(offer.detail).includes(`${rv.tlv.get('Internal IP')}:${rv.tlv.get('External Port')}`), `offer at tshark's ${rv.tlv.get('Internal IP')}:${rv.tlv.get('External Port')}`);
    const arrived = frames.filter((fr) => has(fr, 3, 0x0b)).map((fr) => first(fr, 'aim.buddyname'));
    t.same((r.rows.events ?? []).filter((e) => e.event === 'presence').map((e) => e.account), arrived);
  });
}

t.test('built MD5 login (authorizer) agrees with tshark', async (t) => {
  const file = write('md5.pcap', new Oscar().md5Login('Alice Smith').parts, 5190);
  const frames = tshark(file, 5190);
  t.ok(frames.some((fr) => has(fr, 0x17, 2)) && frames.some((fr) => has(fr, 0x17, 3)), 'tshark sees the login request and reply');
  const r = await imPipeline(file, 0, null, REG);
  t.same((r.rows.accounts ?? []).map((a) => [a.account, a.auth]), [['Alice Smith', 'md5']]);
  t.same((r.rows.events ?? []).map((e) => e.event), ['login']);
});

t.test('built TOC conversation: the FLAP frames tshark finds carry the text imtap reads', async (t) => {
  const c = new Toc().signon('alicetoc').cmd('toc_send_im bob "hello there"').line('IM_IN:bob:F:<B>hi</B>');
  const file = write('toc.pcap', c.parts, 9898);
  const r = await imPipeline(file, 0, null, REG);
  t.same(r.verdicts.map((v) => [v.protocol, v.app]), [['oscar', 'aim']]);
  t.same((r.rows.messages ?? []).map((m) => [m.direction, m.sender, m.recipient, m.body]), [
    ['c2s', 'alicetoc', 'bob', 'hello there'],
    ['s2c', 'bob', 'alicetoc', 'hi'],
  ]);
  // tshark frames the FLAPs (channel, length) but does not read TOC text: the frame bytes after the 6-byte header are it.
  const frames = tshark(file, 9898);
  const data = frames.flatMap((fr) => (fr.f.get('aim_raw') ?? []) as string[]).map((h) => Buffer.from(h, 'hex')).filter((b) => b[1] === 2).map((b) => b.subarray(6, 6 + b.readUInt16BE(4)).toString('latin1').replace(/\0$/, ''));
  t.same(data, ['toc_signon login.oscar.aol.com 5190 alicetoc 0x2408105c23001130 english "TIC:test"', 'SIGN_ON:TOC1.0', 'toc_send_im bob "hello there"', 'IM_IN:bob:F:<B>hi</B>'], 'the TOC frames tshark finds');
});

t.test('1-byte TCP segments give the same rows and verdicts', async (t) => {
  const files = [REAL, write('seg-bos.pcap', bosConversation().parts, 5190), write('seg-toc.pcap', new Toc().signon('u').cmd('toc_send_im bob hi').line('IM_IN:bob:F:yo').parts, 9898)];
  for (const file of files) {
    const whole = await imPipeline(file, 0, null, REG);
    const bytes = await imPipeline(file, 1, null, REG);
    t.same(canonicalRows(bytes.rows), canonicalRows(whole.rows), `${path.basename(file)}: rows`);
    t.same(bytes.verdicts, whole.verdicts, `${path.basename(file)}: verdicts`);
  }
});

t.test('negatives: another protocol on 5190, garbage after a valid start, a truncated capture', async (t) => {
  const http = write('http-5190.pcap', [[0, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], [1, Buffer.from('HTTP/1.1 200 OK\r\n\r\n')]], 5190);
  t.same((await imPipeline(http, 0, null, REG)).verdicts, [], 'HTTP on the OSCAR port');
  const ok = new Oscar().bosLogin('alice0').parts;
  const junk = write('junk.pcap', [...ok, [1, Buffer.from('this is not a FLAP frame at all, just junk bytes')]], 5190);
  const j = await imPipeline(junk, 0, null, REG);
  t.same(j.verdicts.map((v) => v.protocol), ['oscar']);
  t.same((j.rows.anomalies ?? []).map((a) => a.code), ['oscar_bad_flap'], 'junk after confirmation is one anomaly');
  const full = bosConversation().parts;
  const cut = full.slice(0, 5);
  const last = full[5]!;
  cut.push([last[0], last[1].subarray(0, last[1].length - 7)]);
  const tr = write('truncated.pcap', cut, 5190);
  const r = await imPipeline(tr, 0, null, REG);
  t.same(r.verdicts.map((v) => v.protocol), ['oscar']);
  t.same((r.rows.messages ?? []).map((m) => m.direction), ['c2s'], 'the cut message is not invented');
  t.same(r.rows.anomalies ?? [], []);
});

t.test('no OSCAR or OFT in any other capture folder', async (t) => {
  for (const file of singleProtocolCaptures()) {
    const folder = path.relative(PCAPS, file).split(path.sep)[0];
    const r = await imPipeline(file, 0, null, REG);
    const found = [...new Set(r.verdicts.map((v) => v.protocol))];
    if (folder === 'oscar') t.same(found, ['oscar'], path.relative(PCAPS, file));
    else t.same(found, [], path.relative(PCAPS, file));
  }
});

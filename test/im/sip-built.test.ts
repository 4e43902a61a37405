/**
 * The built SIP and MSRP captures (test/im/builders/, fixtures/pcaps/built/sip/): the committed files are the
 * builders' bytes (`IMTAP_REGEN=1` rewrites them); tshark's SIP and MSRP dissectors, an independent decoder, read in
 * them the methods, parties, transaction ids and byte ranges imtap's rows say; every TCP payload re-cut into 1-byte
 * segments gives the same rows; the file sent over MSRP is carved byte-identical.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { sipFixtures } from './builders/sip-fixtures.js';
import { CHUNK_1, CHUNK_2, BOB_TEXT, FILE_NAME, fileBytes } from './builders/msrp.js';
import { CPIM_TEXT, DIGEST_RESPONSE, TEXT_1, TEXT_2, TEXT_3, TEXT_LATIN1, TEXT_SPLIT } from './builders/sip.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { PCAPS } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { PROTOCOLS } from '../../src/decoders/im/protocols.js';
import { sip } from '../../src/decoders/im/sip/index.js';
import { msrp } from '../../src/decoders/im/msrp/index.js';
import type { ImRow } from '../../src/decoders/im/dispatch.js';

// First thing in the process: the builders number IP ids from a module counter.
const FIXTURES = sipFixtures();
const DIR = path.join(PCAPS, 'built/sip');
/** Every IM analyzer (so that no other probe takes these flows), with SIP and MSRP until protocols.ts lists them. */
const registry = new Registry(PROTOCOLS.some((p) => p.id === 'sip') ? PROTOCOLS : [...PROTOCOLS, sip, msrp]);
const file = (name: string) => path.join(DIR, name);

if (process.env.IMTAP_REGEN === '1') {
  fs.mkdirSync(DIR, { recursive: true });
  for (const f of FIXTURES) fs.writeFileSync(file(f.name), f.pcap);
}

/** tshark's fields, one row per packet that has any, empty fields as ''. */
function tshark(f: string, fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', f, '-T', 'fields', ...fields.flatMap((x) => ['-e', x])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .filter((l) => l.replace(/\t/g, '').length > 0)
    .map((l) => l.split('\t'));
}

const userOf = (uri: unknown) => (typeof uri === 'string' ? /^[a-z]+:([^@]+)@/.exec(uri)?.[1] ?? null : null);
const rowsOf = (r: Record<string, ImRow[]>, table: string) => r[table] ?? [];

t.test('committed fixtures are the builders\' bytes', async (t) => {
  for (const f of FIXTURES) t.ok(fs.readFileSync(file(f.name)).equals(f.pcap), `${f.name} (IMTAP_REGEN=1 rewrites it)`);
  const readme = fs.readFileSync(path.join(PCAPS, 'built/README-sip.md'), 'utf8');
  for (const f of FIXTURES) t.ok(readme.includes(`sip/${f.name}`), `${f.name} listed in README-sip.md`);
});

t.test('MESSAGE over UDP: tshark and imtap agree', async (t) => {
  const f = file('sip-message-udp.pcap');
  const ts = tshark(f, ['sip.Method', 'sip.from.user', 'sip.to.user', 'sip.Call-ID']).filter((r) => r[0] === 'MESSAGE');
  const r = await imPipeline(f, 0, null, registry);
  const msgs = rowsOf(r.rows, 'messages');
  // tshark shows the retransmission as a second MESSAGE with the same Call-ID: imtap records it once.
  t.equal(ts.length, 3);
  t.equal(new Set(ts.map((x) => `${x[3]} ${x[1]}`)).size, msgs.length, 'one row per distinct MESSAGE transaction');
  t.same(msgs.map((m) => [userOf(m.sender), userOf(m.recipient)]), [...new Map(ts.map((x) => [x[3], [x[1], x[2]]])).values()]);
  t.same(msgs.map((m) => m.body), [TEXT_1, TEXT_LATIN1.toString('latin1')]);
  t.same(msgs.map((m) => m.direction), ['c2s', 's2c']);
  t.same(r.verdicts.map((v) => [v.protocol, v.kind, v.confidence]), [['sip', 'chat', 1]]);
});

t.test('MESSAGE over TCP (two in a segment, one split): tshark and imtap agree, 1-byte segments too', async (t) => {
  const f = file('sip-message-tcp.pcap');
  const ts = tshark(f, ['sip.Method', 'sip.from.user', 'sip.to.user']).flatMap((r) => r[0]!.split(',').map((m, i) => [m, r[1]!.split(',')[i], r[2]!.split(',')[i]]));
  const methods = ts.filter((x) => x[0] === 'MESSAGE');
  const r = await imPipeline(f, 0, null, registry);
  const msgs = rowsOf(r.rows, 'messages');
  t.equal(msgs.length, methods.length);
  t.same(msgs.map((m) => [userOf(m.sender), userOf(m.recipient)]), methods.map((x) => [x[1], x[2]]));
  t.same(msgs.map((m) => m.body), [TEXT_2, TEXT_3, TEXT_SPLIT]);
  t.equal(msgs[2]!.subject, 'split');
  t.same(rowsOf(r.rows, 'anomalies'), [], 'keep-alives are not anomalies');
  const one = await imPipeline(f, 1, null, registry);
  t.same(canonicalRows(one.rows), canonicalRows(r.rows));
  t.same(one.verdicts, r.verdicts);
});

t.test('CPIM and isComposing: tshark and imtap agree', async (t) => {
  const f = file('sip-cpim.pcap');
  const ts = tshark(f, ['sip.Method', 'sip.Content-Type', 'sip.from.user']).filter((r) => r[0] === 'MESSAGE');
  t.same(ts.map((x) => x[1]), ['application/im-iscomposing+xml', 'message/cpim']);
  const r = await imPipeline(f, 0, null, registry);
  const typing = rowsOf(r.rows, 'events').filter((e) => e.event === 'typing');
  t.equal(typing.length, 1, 'isComposing is a typing event');
  t.equal(userOf(typing[0]!.account), ts[0]![2]);
  const msgs = rowsOf(r.rows, 'messages');
  t.equal(msgs.length, 1, 'only the CPIM body is a message');
  t.match(msgs[0], { sender: 'im:alice@atlanta.example.com', recipient: 'im:bob@biloxi.example.com', body: CPIM_TEXT, subject: 'lunch', body_format: 'text' });
});

t.test('REGISTER with digest: tshark and imtap agree; the digest response is not stored', async (t) => {
  const f = file('sip-register.pcap');
  const ts = tshark(f, ['sip.Method', 'sip.Status-Code', 'sip.auth.username', 'sip.to.user']);
  t.same(ts.map((x) => x[0] || x[1]), ['REGISTER', '401', 'REGISTER', '200']);
  const r = await imPipeline(f, 0, null, registry);
  const acc = rowsOf(r.rows, 'accounts');
  t.equal(acc.length, 1);
  // tshark shows the quoted-string as sent.
  t.match(acc[0], { account: 'sip:alice@atlanta.example.com', login: JSON.parse(ts[2]![2]!), auth: 'digest', server: 'atlanta.example.com' });
  t.equal(userOf(acc[0]!.account), ts[0]![3]);
  t.same(rowsOf(r.rows, 'events').map((e) => e.event), ['register', 'register', 'login']);
  t.notOk(JSON.stringify(r.rows).includes(DIGEST_RESPONSE), 'no digest response anywhere');
  t.same(rowsOf(r.rows, 'messages'), []);
});

t.test('INVITE with MSRP, then the MSRP session: tshark and imtap agree; the file is carved byte-identical', async (t) => {
  const f = file('sip-msrp.pcap');
  const dir = tempDir('sip-msrp');
  const ts = tshark(f, ['msrp.method', 'msrp.status.code', 'msrp.messageid', 'msrp.byte.range', 'msrp.cnt.flg', 'msrp.content.type']);
  const sends = ts.filter((x) => x[0] === 'SEND' && x[5] !== '');
  t.same(sends.map((x) => x[2]), ['87652491', '87652491', 'b2a-0001', 'file-0001'], 'tshark: the SENDs with bodies');
  t.same(sends.map((x) => x[4]), ['+', '$', '$', '$'], 'tshark: continuation flags');
  const r = await imPipeline(f, 0, dir, registry);
  t.same(r.verdicts.map((v) => [v.protocol, v.app, v.method, v.server_port]), [['sip', 'sip', 'payload', 5060], ['msrp', 'sip', 'expected', 7394]]);
  const msgs = rowsOf(r.rows, 'messages');
  const chunked = sends.filter((x) => x[2] === '87652491');
  t.equal(chunked.length, 2, 'tshark: two chunks of one Message-ID');
  t.same(msgs.map((m) => m.body), [CHUNK_1 + CHUNK_2, BOB_TEXT], 'the two chunks make one message; the CPIM one is unwrapped');
  t.match(msgs[0], { sender: 'sip:alice@atlanta.example.com', recipient: 'sip:bob@biloxi.example.com', kind: 'session', direction: 'c2s' });
  t.match(msgs[1], { sender: 'im:bob@biloxi.example.com', direction: 's2c' });
  const tr = rowsOf(r.rows, 'transfers');
  t.equal(tr.length, 1);
  const want = fileBytes();
  const fileRange = sends.find((x) => x[2] === 'file-0001')![3]!;
  t.equal(fileRange, `1-${want.length}/${want.length}`, 'tshark: the file chunk byte range');
  t.match(tr[0], { filename: FILE_NAME, size: want.length, bytes_seen: want.length, complete: true, method: 'msrp', sender: 'sip:alice@atlanta.example.com', recipient: 'sip:bob@biloxi.example.com' });
  t.equal(tr[0]!.sha256, crypto.createHash('sha256').update(want).digest('hex'));
  t.ok(fs.readFileSync(tr[0]!.path as string).equals(want), 'carved file equals the bytes sent');
  // tshark's reassembly of the stream, as an independent check of what the carved file holds.
  const follow = execFileSync('tshark', ['-r', f, '-q', '-z', 'follow,tcp,raw,0'], { encoding: 'utf8' });
  const c2s = Buffer.from(follow.split('\n').filter((l) => /^[0-9a-f]+$/.test(l)).join(''), 'hex');
  t.ok(c2s.includes(want), 'tshark\'s client stream holds the carved bytes');
  t.same(rowsOf(r.rows, 'events').map((e) => e.event), ['invite', 'report']);
  const one = await imPipeline(f, 1, null, registry);
  const strip = (rows: Record<string, ImRow[]>) => canonicalRows({ ...rows, transfers: (rows.transfers ?? []).map((x) => ({ ...x, path: null })) });
  t.same(strip(one.rows), strip(r.rows), '1-byte segments: same rows');
});

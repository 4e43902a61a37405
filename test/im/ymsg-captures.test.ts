// YMSG captures built from the protocol documentation (test/im/builders/ymsg.ts), committed under
// fixtures/pcaps/built/ymsg/ and regenerated here byte for byte (IMTAP_REGEN_FIXTURES=1 rewrites them). Each is checked
// against tshark's YMSG dissector (its key/value pairs, raw bytes) — a fixture counts only when tshark's fields and
// imtap's rows agree — then run through the whole pipeline, also re-cut into 1-byte segments (same rows). Negatives:
// HTTP on 5050, garbage after a valid start, a truncated capture.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ymsgFixtures, loginParts, ymsgPacket, S } from './builders/ymsg.js';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { fixture } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { run } from '../helpers/tools.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { ymsg } from '../../src/decoders/im/ymsg/index.js';
import type { ImRow } from '../../src/decoders/im/dispatch.js';

// First: IP ids count up per process, so the fixtures are built before any other frame.
const built = ymsgFixtures();
const DIR = fixture('built/ymsg');
const registry = new Registry([ymsg]);
const tmp = tempDir('ymsg');

interface TPacket {
  dir: 0 | 1;
  service: number;
  pairs: [number, Buffer][];
}

type J = Record<string, unknown>;
const arr = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** The YMSG packets as tshark dissects them (heuristic dissector, tried before the port's own, e.g. telnet on 23). */
function tsharkPackets(file: string, serverPort: number): TPacket[] {
  const out = run('tshark', ['-n', '-r', file, '-o', 'tcp.try_heuristic_first:TRUE', '-Y', 'ymsg', '-T', 'json', '-x', '--no-duplicate-keys']);
  const frames = JSON.parse(out) as { _source: { layers: J } }[];
  const list: TPacket[] = [];
  for (const f of frames) {
    const layers = f._source.layers;
    const tcp = layers.tcp as J;
    const dir = Number(tcp['tcp.srcport']) === serverPort ? 1 : 0;
    for (const y of arr(layers.ymsg as J | J[])) {
      const pairs: [number, Buffer][] = [];
      const content = y['ymsg.content_tree'] as J | undefined;
      for (const line of arr(content?.['ymsg.content-line_tree'] as J | J[] | undefined)) {
        const raw = line['ymsg.content-line.value_raw'] as [string, ...unknown[]] | undefined;
        pairs.push([Number(line['ymsg.content-line.key']), Buffer.from(raw?.[0] ?? '', 'hex')]);
      }
      list.push({ dir: dir as 0 | 1, service: Number(y['ymsg.service']), pairs });
    }
  }
  return list;
}

const val = (p: TPacket, k: number): string | null => {
  const x = p.pairs.find(([key]) => key === k);
  return x === undefined ? null : x[1].toString('utf8');
};
const bodyHex = (r: ImRow): string => (r.body_raw instanceof Uint8Array ? Buffer.from(r.body_raw).toString('hex') : Buffer.from(String(r.body), 'utf8').toString('hex'));

/** What tshark's pairs say the rows must be (sender, recipient, body bytes of the message services). */
function expectedMessages(ps: TPacket[]): string[] {
  const out: string[] = [];
  for (const p of ps) {
    if (p.service === S.MESSAGE) {
      const fromKey = p.pairs.some(([k]) => k === 4) ? 4 : 1;
      let from: string | null = null;
      let to: string | null = null;
      for (const [k, v] of p.pairs) {
        if (k === fromKey) from = v.toString();
        else if (k === 5) to = v.toString();
        else if (k === 14) out.push(JSON.stringify([from, to, v.toString('hex')]));
      }
    } else if (p.service === S.CONFMSG) {
      out.push(JSON.stringify([val(p, p.dir === 1 ? 3 : 1), val(p, 57), p.pairs.find(([k]) => k === 14)![1].toString('hex')]));
    } else if (p.service === S.COMMENT) {
      out.push(JSON.stringify([val(p, 109) ?? val(p, 1), val(p, 104), p.pairs.find(([k]) => k === 117)![1].toString('hex')]));
    }
  }
  return out.sort();
}

function expectedOffers(ps: TPacket[]): string[] {
  const out: string[] = [];
  for (const p of ps) {
    if (![S.FILETRANSFER, S.P2PFILEXFER, S.FILETRANS_15].includes(p.service as 0x46)) continue;
    if (p.service === S.FILETRANS_15 && val(p, 222) !== '1') continue;
    const name = val(p, 27);
    if (name !== null) out.push(JSON.stringify([p.dir === 1 ? val(p, 4) : val(p, 1), val(p, 5), name, Number(val(p, 28))]));
  }
  return out.sort();
}

t.test('committed fixtures are what the builder makes', async (t) => {
  for (const [name, bytes] of built) {
    const file = path.join(DIR, name);
    if (process.env.IMTAP_REGEN_FIXTURES === '1') fs.writeFileSync(file, bytes);
    t.ok(fs.existsSync(file), `${name} committed`);
    t.ok(Buffer.compare(fs.readFileSync(file), bytes) === 0, `${name} byte-identical to the builder's`);
  }
});

for (const name of built.keys()) {
  t.test(`${name}: tshark and imtap agree`, async (t) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, built.get(name)!);
    const port = name.includes('port23') ? 23 : 5050;
    const ps = tsharkPackets(file, port);
    t.ok(ps.length >= 4, `tshark dissects ${ps.length} YMSG packets`);
    const r = await imPipeline(file, 0, null, registry);
    t.same(r.verdicts.map((v) => [v.protocol, v.app, v.confidence]), [['ymsg', 'yahoo', 1]]);
    const msgs = (r.rows.messages ?? []).map((m) => JSON.stringify([m.sender, m.recipient, bodyHex(m)])).sort();
    t.same(msgs, expectedMessages(ps), 'messages: sender, recipient, body bytes');
    const offers = (r.rows.transfers ?? []).map((x) => JSON.stringify([x.sender, x.recipient, x.filename, x.size])).sort();
    t.same(offers, expectedOffers(ps), 'file offers');
    const auth = ps.find((p) => p.service === S.AUTH && p.dir === 0)!;
    const failed = ps.some((p) => p.service === S.AUTHRESP && p.dir === 1 && val(p, 66) !== null);
    t.same((r.rows.accounts ?? []).map((a) => a.account), failed ? [] : [val(auth, 1)], 'the account is the id of AUTH (when the login succeeded)');
    const typing = ps.filter((p) => p.service === S.NOTIFY && val(p, 49) === 'TYPING').length;
    t.equal((r.rows.events ?? []).filter((e) => e.event === 'typing').length, typing, 'one typing event per NOTIFY TYPING');
    const list15 = ps.filter((p) => p.service === S.LIST_15).flatMap((p) => p.pairs.filter(([k]) => k === 7).map(([, v]) => v.toString()));
    const contacts = (r.rows.contacts ?? []).filter((c) => c.state !== 'added').map((c) => String(c.contact).replace(/^msn\//, ''));
    t.same(contacts.sort(), list15.sort(), 'contacts: the buddies of LIST_15');
    const one = await imPipeline(file, 1, null, registry);
    t.same(canonicalRows(one.rows), canonicalRows(r.rows), '1-byte segments: identical rows');
  });
}

t.test('negatives', async (t) => {
  const http = path.join(tmp, 'http-on-5050.pcap');
  fs.writeFileSync(http, conversationPcap([{ client: '10.1.0.9', server: '10.1.0.10', cport: 52000, sport: 5050, parts: [[0, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'], [1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']] }]));
  t.same((await imPipeline(http, 0, null, registry)).verdicts, [], 'HTTP on the YMSG port');
  const garbage = path.join(tmp, 'ymsg-then-garbage.pcap');
  const login = loginParts();
  fs.writeFileSync(garbage, conversationPcap([{ client: '10.1.0.9', server: '10.1.0.10', cport: 52001, sport: 5050, parts: [login[0]!, [0, Buffer.from('\x16\x03\x01\x02\x00garbage garbage', 'latin1')], [1, 'SSH-2.0-x\r\n']] }]));
  const g = await imPipeline(garbage, 0, null, registry);
  t.same(g.verdicts, [], 'garbage after a valid start: rejected, no rows');
  t.same(g.rows, {});
  const cut = path.join(tmp, 'ymsg-truncated.pcap');
  const msg = ymsgPacket(S.MESSAGE, [[1, 'alice_tap'], [5, 'bob_tap'], [14, 'cut short'], [97, '1']]);
  fs.writeFileSync(cut, conversationPcap([{ client: '10.1.0.9', server: '10.1.0.10', cport: 52002, sport: 5050, noFin: true, parts: [...login, [0, msg.subarray(0, msg.length - 4)]] }]));
  const c = await imPipeline(cut, 0, null, registry);
  t.same(c.verdicts.map((v) => v.protocol), ['ymsg']);
  t.same((c.rows.anomalies ?? []).map((a) => a.code), ['ymsg_truncated']);
  t.equal((c.rows.messages ?? []).length, 0);
  t.equal((c.rows.accounts ?? []).length, 1, 'what came before the cut is kept');
});

// Gadu-Gadu captures built from the protocol documentation (test/im/builders/gadugadu.ts), committed under
// fixtures/pcaps/built/gadugadu/ and regenerated here byte for byte (IMTAP_REGEN_FIXTURES=1 rewrites them). Each is
// checked against tshark's Gadu-Gadu dissector (`-d tcp.port==N,gadu-gadu`) — a fixture counts only when tshark's
// fields and imtap's rows agree — then run through the whole pipeline, also re-cut into 1-byte segments (same rows).
// Negatives: HTTP on 8074, garbage after a valid start, a truncated capture.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { gaduFixtures, login80, welcome } from './builders/gadugadu.js';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { fixture } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { run } from '../helpers/tools.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { gadugadu } from '../../src/decoders/im/gadugadu/index.js';

// First: IP ids count up per process, so the fixtures are built before any other frame.
const built = gaduFixtures();
const DIR = fixture('built/gadugadu');
const registry = new Registry([gadugadu]);
const tmp = tempDir('gadugadu');
const cp1250 = new TextDecoder('windows-1250');

type J = Record<string, unknown>;
const arr = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const str = (l: J, k: string): string | null => (l[k] === undefined ? null : String(arr(l[k] as string | string[])[0]));
const raw = (l: J, k: string): Buffer | null => {
  const r = l[`${k}_raw`] as [string, ...unknown[]] | undefined;
  return r === undefined ? null : Buffer.from(r[0], 'hex');
};
/** Every value of field `k` anywhere under `l` (tshark nests repeated entries in subtrees such as "Contact: 123"). */
function collect(l: unknown, k: string, out: string[] = []): string[] {
  if (l === null || typeof l !== 'object') return out;
  for (const [key, v] of Object.entries(l as J)) {
    if (key === k) out.push(...arr(v as string | string[]).map(String));
    else collect(v, k, out);
  }
  return out;
}
const cstr = (b: Buffer, at = 0): Buffer => {
  const z = b.indexOf(0, at);
  return b.subarray(at, z < 0 ? b.length : z);
};

interface Oracle {
  logins: string[];
  messages: string[];
  contacts: string[];
  statuses: string[];
  typing: number;
  offers: string[];
  failed: boolean;
}

/** What tshark's Gadu-Gadu fields say the rows must be. */
function tshark(file: string, port: number): Oracle {
  const out = run('tshark', ['-n', '-r', file, '-d', `tcp.port==${port},gadu-gadu`, '-Y', 'gadu-gadu', '-T', 'json', '-x', '--no-duplicate-keys']);
  const o: Oracle = { logins: [], messages: [], contacts: [], statuses: [], typing: 0, offers: [], failed: false };
  for (const f of JSON.parse(out) as { _source: { layers: J } }[]) {
    for (const g of arr(f._source.layers['gadu-gadu'] as J | J[])) {
      const type = Number(str(g, 'gadu-gadu.send') ?? str(g, 'gadu-gadu.recv'));
      const recv = g['gadu-gadu.recv'] !== undefined;
      const login = str(g, 'gadu-gadu.login.uin');
      if (login !== null) o.logins.push(login);
      if (recv && (type === 0x09 || type === 0x43)) o.failed = true;
      const sender = str(g, 'gadu-gadu.msg.sender');
      const recipient = str(g, 'gadu-gadu.msg.recipient');
      if (sender !== null && recipient !== null) {
        let body: string;
        const plainOff = str(g, 'gadu-gadu.msg80.offset_plain');
        if (plainOff === null) body = str(g, 'gadu-gadu.msg.text') ?? '';
        else {
          // tshark stops at the offsets: the HTML part starts right after them, the plain part at offset_plain.
          const rest = raw(g, 'gadu-gadu.data') ?? Buffer.alloc(0);
          const html = cstr(rest);
          body = html.length > 0 ? html.toString('utf8') : cp1250.decode(cstr(rest, Number(plainOff) - (recv ? 24 : 20)));
        }
        o.messages.push(JSON.stringify([sender, recipient, body]));
      }
      if (!recv) o.contacts.push(...collect(g, 'gadu-gadu.contact.uin'));
      const st = str(g, 'gadu-gadu.status.uin');
      if (recv && st !== null) o.statuses.push(JSON.stringify([st, str(g, 'gadu-gadu.status.description')]));
      if (str(g, 'gadu-gadu.typing_notify.uin') !== null) o.typing++;
      const fname = raw(g, 'gadu-gadu.dcc.filename');
      if (fname !== null) o.offers.push(JSON.stringify([str(g, 'gadu-gadu.dcc.uin_from'), str(g, 'gadu-gadu.dcc.uin_to'), cp1250.decode(cstr(fname))]));
    }
  }
  return o;
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
    const port = name.includes('port443') ? 443 : 8074;
    const o = tshark(file, port);
    t.equal(o.logins.length, 1, 'tshark sees the login');
    const r = await imPipeline(file, 0, null, registry);
    t.same(r.verdicts.map((v) => [v.protocol, v.app, v.confidence]), [['gadugadu', 'gadugadu', 1]]);
    t.same((r.rows.accounts ?? []).map((a) => a.account), o.failed ? [] : o.logins, 'the account is the login UIN (when the login succeeded)');
    t.same((r.rows.messages ?? []).map((m) => JSON.stringify([m.sender, m.recipient, m.body])).sort(), o.messages.sort(), 'messages: sender, recipient, text');
    const notify = (r.rows.contacts ?? []).filter((c) => c.group_name === null).map((c) => String(c.contact));
    t.same(notify.sort(), o.contacts.sort(), 'contacts of the notify lists');
    const events = r.rows.events ?? [];
    for (const s of o.statuses) {
      const [uin, descr] = JSON.parse(s) as [string, string | null];
      t.ok(events.some((e) => e.event === 'presence' && e.account === uin && (descr === null || descr === '' || String(e.detail).endsWith(`: ${descr}`))), `presence of ${uin}`);
    }
    t.equal(events.filter((e) => e.event === 'typing').length, o.typing, 'one typing event per TYPING_NOTIFY');
    t.same((r.rows.transfers ?? []).map((x) => JSON.stringify([x.sender, x.recipient, x.filename])), o.offers, 'DCC7 file offers');
    const one = await imPipeline(file, 1, null, registry);
    t.same(canonicalRows(one.rows), canonicalRows(r.rows), '1-byte segments: identical rows');
  });
}

t.test('negatives', async (t) => {
  const http = path.join(tmp, 'http-on-8074.pcap');
  fs.writeFileSync(http, conversationPcap([{ client: '10.2.0.9', server: '10.2.0.10', cport: 54000, sport: 8074, parts: [[0, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'], [1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']] }]));
  t.same((await imPipeline(http, 0, null, registry)).verdicts, [], 'HTTP on the GG port');
  const garbage = path.join(tmp, 'gg-then-garbage.pcap');
  fs.writeFileSync(garbage, conversationPcap([{ client: '10.2.0.9', server: '10.2.0.10', cport: 54001, sport: 8074, parts: [[1, welcome()], [0, 'SSH-2.0-OpenSSH_9.2\r\n']] }]));
  const g = await imPipeline(garbage, 0, null, registry);
  t.same(g.verdicts, [], 'garbage after a valid start: rejected');
  t.same(g.rows, {});
  const cut = path.join(tmp, 'gg-truncated.pcap');
  const l = login80(1234567);
  fs.writeFileSync(cut, conversationPcap([{ client: '10.2.0.9', server: '10.2.0.10', cport: 54002, sport: 8074, noFin: true, parts: [[1, welcome()], [0, l.subarray(0, 60)]] }]));
  const c = await imPipeline(cut, 0, null, registry);
  t.same(c.verdicts.map((v) => v.protocol), ['gadugadu']);
  t.same((c.rows.anomalies ?? []).map((a) => a.code), ['gadugadu_truncated']);
  t.same(c.rows.accounts ?? [], [], 'no login was read');
});

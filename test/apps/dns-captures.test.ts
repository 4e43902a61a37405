/**
 * DNS on every real capture of fixtures/pcaps (apps/, negatives/, sip/, and the others as negatives), with the `dns`
 * analyzer as the only one registered (so its probe is asked about every flow):
 * - the DNS messages (DNS, mDNS, LLMNR) tshark dissects are the messages our rows describe, counted per capture: for
 *   each message its id, query/response, first question name, the number of rows (one for a query or a response
 *   without answers, else one per answer record) and the A, AAAA and CNAME answers;
 * - no flow of a capture without DNS is taken for DNS;
 * - end to end with the name cache: the flows that follow a DNS answer for their server address (found with tshark:
 *   the TCP connections to an address a DNS answer in the same capture gave) get the name the client asked as their
 *   server name.
 */
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { allCaptures, rel } from '../helpers/fixtures.js';
import { analyzeCapture } from '../../src/decoders/im/analyze.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { defaultRegistry } from '../../src/decoders/im/protocols.js';
import { dns } from '../../src/decoders/apps/dns/index.js';
import { DnsCache } from '../../src/decoders/apps/dns-cache.js';
import type { ImRow } from '../../src/decoders/im/dispatch.js';

const registry = new Registry([dns]);

const tshark = (file: string, filter: string, fields: string[]): string[][] =>
  execFileSync('tshark', ['-n', '-r', file, '-Y', filter, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=;', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));

const list = (v: string | undefined): string[] => (v === undefined || v === '' ? [] : v.split(';'));

/** One line per DNS message as tshark dissects it (ICMP errors quoting a DNS message left out). */
function tsharkMessages(file: string): string[] {
  const rows = tshark(file, '(dns || mdns || llmnr) && !icmp && !icmpv6', ['dns.id', 'dns.flags.response', 'dns.qry.name', 'dns.count.answers', 'dns.resp.type', 'dns.a', 'dns.aaaa', 'dns.cname']);
  return rows.map(([id, resp, qnames, count, types, a, aaaa, cname]) => {
    const response = resp === '1' || resp === 'True';
    const n = Number(count ?? 0);
    // Records of every section are listed in order, answers first: the first n types are the answers', and the first
    // k A values are the k A answers' (likewise AAAA, CNAME).
    const answerTypes = list(types).slice(0, n);
    const k = (t: string) => answerTypes.filter((x) => x === t).length;
    const answers = [...list(a).slice(0, k('1')).map((x) => `A ${x}`), ...list(aaaa).slice(0, k('28')).map((x) => `AAAA ${x}`), ...list(cname).slice(0, k('5')).map((x) => `CNAME ${x.toLowerCase()}`)];
    const q = list(qnames)[0];
    const qname = q === undefined ? null : q === '<Root>' ? '.' : q.toLowerCase();
    return summary(Number(id), response, qname, response ? Math.max(1, n) : 1, answers);
  });
}

function summary(id: number, response: boolean, qname: string | null, rows: number, answers: string[]): string {
  return `${id} ${response ? 'R' : 'Q'} ${qname ?? '-'} rows=${rows} ${[...answers].sort().join(',')}`;
}

/** Our rows grouped back into messages (a message's rows share flow, time, id and direction). */
function ourMessages(rows: ImRow[]): string[] {
  const groups = new Map<string, ImRow[]>();
  for (const r of rows) {
    const ts = r.ts as readonly [number, number];
    const key = `${String(r.flow_id)} ${ts[0]}.${ts[1]} ${String(r.query_id)} ${String(r.response)}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((g) => {
    const r0 = g[0]!;
    const answers = g.filter((r) => r.answer_type === 'A' || r.answer_type === 'AAAA' || r.answer_type === 'CNAME').map((r) => `${String(r.answer_type)} ${String(r.answer)}`);
    return summary(Number(r0.query_id), r0.response === true, (r0.qname as string | null) ?? null, g.length, answers);
  });
}

const captures = allCaptures();

t.test('every DNS message of every capture: our rows agree with tshark', async (t) => {
  let total = 0;
  for (const file of captures) {
    const expected = tsharkMessages(file).sort();
    const res = await analyzeCapture(file, { registry });
    const dnsRows = res.rows.dns ?? [];
    const ours = ourMessages(dnsRows).sort();
    t.same(ours, expected, `${rel(file)}: ${expected.length} DNS messages (tshark)`);
    const dnsFlows = res.others.filter((f) => f.protocol === 'dns');
    if (expected.length === 0) t.equal(dnsFlows.length, 0, `${rel(file)}: no flow taken for DNS`);
    t.same(res.rows.anomalies?.filter((a) => String(a.code).startsWith('dns_')) ?? [], [], `${rel(file)}: no DNS anomaly`);
    total += expected.length;
  }
  // The corpus does hold DNS: KakaoTalk, WhatsApp (with mDNS), and a SIP capture with 357 DNS packets.
  t.ok(total > 300, `${total} DNS messages compared`);
});

t.test('with every analyzer registered, the DNS messages are still all read by dns', async (t) => {
  for (const file of captures) {
    const expected = tsharkMessages(file).sort();
    if (expected.length === 0) continue;
    const res = await analyzeCapture(file, { registry: defaultRegistry() });
    t.same(ourMessages(res.rows.dns ?? []).sort(), expected, `${rel(file)}: ${expected.length} DNS messages`);
  }
});

t.test('flows after a DNS answer inherit the name the client asked', async (t) => {
  // whatsapp_login_call.pcap: the client asks e13.whatsapp.net and query.ess.apple.com (a CNAME to akadns.net), then
  // connects to some of the addresses. tshark finds the pairs independently: answers (client, address, name asked)
  // and TCP SYNs (client, address) after them.
  const file = captures.find((f) => f.endsWith('apps/whatsapp_login_call.pcap'))!;
  const answers = tshark(file, 'dns.flags.response == 1 && dns.a', ['ip.dst', 'dns.qry.name', 'dns.a']);
  const named = new Map<string, string>();
  for (const [client, qname, addrs] of answers) for (const a of list(addrs)) named.set(`${client} ${a}`, qname!.toLowerCase());
  const syns = tshark(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['ip.src', 'ip.dst', 'tcp.srcport']);
  const expected = new Map<string, string>();
  for (const [src, dst, sport] of syns) {
    const n = named.get(`${src} ${dst}`);
    if (n !== undefined) expected.set(`${src}:${sport} ${dst}`, n);
  }
  t.ok(expected.size >= 2, `tshark: ${expected.size} connections to a resolved address`);
  t.ok(new Set(expected.values()).has('query.ess.apple.com'), 'one of them through a CNAME chain');
  const res = await analyzeCapture(file, { registry, names: new DnsCache() });
  const all = [...res.flows, ...res.others];
  for (const [key, name] of expected) {
    const f = all.find((v) => `${v.client_ip}:${v.client_port} ${v.server_ip}` === key);
    t.equal(f?.serverName, name, `${key}: ${name}`);
  }
  // Without the cache, no name.
  const bare = await analyzeCapture(file, { registry, names: null });
  t.equal([...bare.flows, ...bare.others].filter((v) => v.serverName !== null).length, 0, 'no server name without the cache');
});

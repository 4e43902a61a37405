/**
 * SIP on the real captures of fixtures/pcaps/sip (calls and registrations, one inside GTP-U, Zeek's edge cases) and on
 * every other capture: through the whole pipeline with all the IM analyzers registered.
 * - the flows tshark decodes as SIP are the flows imtap recognises as SIP (no more, no fewer);
 * - no message rows (these captures hold calls), `app_kind` `call` on the flows with an INVITE;
 * - the (method, From) pairs of Zeek's sip.log for sip_wireshark.pcap are the invite/cancel/register events;
 * - Zeek's weirds for the edge cases are anomalies here (invalid Content-Length, junk before a request, long paths);
 * - no capture of another folder, and none of negatives/, is taken for SIP or MSRP; 1-byte segments change nothing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { allCaptures, fixture, PCAPS, ROOT, singleProtocolCaptures } from '../helpers/fixtures.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { PROTOCOLS } from '../../src/decoders/im/protocols.js';
import { sip } from '../../src/decoders/im/sip/index.js';
import { msrp } from '../../src/decoders/im/msrp/index.js';

/** Every IM analyzer (so that no other probe takes these flows), with SIP and MSRP until protocols.ts lists them. */
const registry = new Registry(PROTOCOLS.some((p) => p.id === 'sip') ? PROTOCOLS : [...PROTOCOLS, sip, msrp]);
const SIP_CAPTURES = allCaptures().filter((f) => path.relative(PCAPS, f).startsWith(`sip${path.sep}`));
const rel = (f: string) => path.relative(PCAPS, f);

/** Per flow (sorted endpoints of the innermost IP header), the SIP methods tshark sees. */
function tsharkSipFlows(file: string): Map<string, Set<string>> {
  const out = execFileSync('tshark', ['-r', file, '-Y', 'sip', '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'sip.Method'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const flows = new Map<string, Set<string>>();
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    const [src, dst, us, ud, ts, td, method] = line.split('\t');
    const last = (v: string | undefined) => (v ?? '').split(',').pop()!;
    const a = `${last(src)}:${last(ts) || last(us)}`;
    const b = `${last(dst)}:${last(td) || last(ud)}`;
    const key = [a, b].sort().join(' ');
    const set = flows.get(key) ?? new Set<string>();
    for (const m of (method ?? '').split(',')) if (m !== '') set.add(m);
    flows.set(key, set);
  }
  return flows;
}

t.test('SIP captures: the SIP flows, no messages, calls, no stray protocol', async (t) => {
  for (const file of SIP_CAPTURES) {
    const r = await imPipeline(file, 0, null, registry);
    const ts = tsharkSipFlows(file);
    const sipVerdicts = r.verdicts.filter((v) => v.protocol === 'sip');
    // The flow table may split one address pair into several flows (UDP idle timeout): each pair is at least one flow.
    t.ok(sipVerdicts.length >= ts.size && ts.size > 0, `${rel(file)}: ${ts.size} address pairs carry SIP (tshark), ${sipVerdicts.length} SIP flows`);
    const portPairs = (xs: [number, number][]) => [...new Set(xs.map(([a, b]) => [a, b].sort((x, y) => x - y).join('-')))].sort();
    t.same(portPairs(sipVerdicts.map((v) => [v.client_port, v.server_port])), portPairs([...ts.keys()].map((k) => k.split(' ').map((e) => Number(e.split(':').pop())) as [number, number])), `${rel(file)}: the same ports`);
    // Besides SIP, only the calls' media the SDP announced (checked against tshark in test/apps/rtp-captures.test.ts).
    t.same([...new Set(r.verdicts.filter((v) => v.method !== 'expected').map((v) => v.protocol))].filter((p) => p !== 'sip'), [], `${rel(file)}: nothing but SIP and its calls' media`);
    t.same(r.rows.messages ?? [], [], `${rel(file)}: no message rows`);
    // A flow is a call exactly when it carried an INVITE (and no MESSAGE).
    const inviting = new Set((r.rows.events ?? []).filter((e) => e.event === 'invite').map((e) => e.flow_id));
    t.same(sipVerdicts.filter((v) => v.kind === 'call').map((v) => v.flow_id).sort(), [...inviting].sort(), `${rel(file)}: the flows with an INVITE are calls`);
    t.equal(inviting.size > 0, [...ts.values()].some((m) => m.has('INVITE')), `${rel(file)}: INVITEs as tshark sees them`);
    for (const a of r.rows.anomalies ?? []) t.ok(registry.declares(a.code as string), `${rel(file)}: ${a.code} declared`);
  }
});

t.test("sip_wireshark.pcap: the requests of Zeek's sip.log are the events", async (t) => {
  const log = fs.readFileSync(path.join(ROOT, 'fixtures/zeek-baselines/scripts.base.protocols.sip.wireshark/sip.log'), 'utf8');
  const zeek = new Set<string>();
  for (const line of log.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const f = line.split('\t');
    const method = f[7]!;
    if (!['INVITE', 'CANCEL', 'REGISTER'].includes(method)) continue;
    const uri = /<([^>]+)>/.exec(f[10]!)?.[1];
    zeek.add(`${method.toLowerCase()} ${uri}`);
  }
  const r = await imPipeline(fixture('sip/sip_wireshark.pcap'), 0, null, registry);
  const ours = new Set((r.rows.events ?? []).filter((e) => ['invite', 'cancel', 'register'].includes(e.event as string)).map((e) => `${e.event} ${e.account}`));
  t.same([...ours].sort(), [...zeek].sort());
  const accounts = new Set((r.rows.accounts ?? []).map((a) => a.account));
  t.same([...accounts].sort(), [...new Set([...zeek].filter((x) => x.startsWith('register')).map((x) => x.slice(9)))].sort(), 'REGISTER AoRs are the accounts');
  t.notOk((r.rows.accounts ?? []).some((a) => a.auth !== null && a.auth !== 'digest'));
});

t.test("Zeek's weirds are anomalies", async (t) => {
  const codes = async (name: string) => {
    const r = await imPipeline(fixture(`sip/${name}`), 0, null, registry);
    return { r, anomalies: (r.rows.anomalies ?? []).map((a) => [a.code, a.detail] as [string, string]) };
  };
  const cl = await codes('sip_invalid-content-length.pcap');
  // Zeek: invalid_SIP_request_body_len "bad", invalid_SIP_response_body_len "xyz".
  t.same(cl.anomalies.map((a) => a[0]), ['sip_bad_content_length', 'sip_bad_content_length']);
  t.match(cl.anomalies[0]![1], /INVITE request Content-Length "bad"/);
  t.match(cl.anomalies[1]![1], /200 response Content-Length "xyz"/);
  t.same(cl.r.verdicts.map((v) => [v.protocol, v.kind, v.confidence]), [['sip', 'call', 1]]);
  const junk = await codes('sip_sip-junk-before-request.pcap');
  // Zeek: sip_junk_before_request \x00\x00\x00\x00.
  t.same(junk.anomalies.map((a) => a[0]), ['sip_junk_before_request']);
  t.match(junk.anomalies[0]![1], /\\x00\\x00\\x00\\x00/);
  t.equal(junk.r.verdicts.length, 1);
  const paths = await codes('sip_sip-long-request-response-paths.pcap');
  // Zeek: sip_max_request_path_length_exceeded, sip_max_response_path_length_exceeded.
  t.same(paths.anomalies.map((a) => a[0]), ['sip_path_too_long', 'sip_path_too_long']);
  t.match(paths.anomalies[0]![1], /OPTIONS request with 10 Via/);
  t.match(paths.anomalies[1]![1], /200 response with 10 Via/);
});

t.test('GTP-U: SIP inside the tunnel is recognised on the inner flow', async (t) => {
  const r = await imPipeline(fixture('sip/gprs-sip-gtpu.pcap'), 0, null, registry);
  t.same(r.verdicts.map((v) => [v.protocol, v.kind, v.server_port]), [['sip', 'call', 5060]]);
  t.match(r.rows.accounts, [{ account: 'sip:ng40user1@apn.sip.voice.ng4t.com', login: 'ng40user1', auth: 'digest' }]);
});

t.test('no other capture is SIP or MSRP', async (t) => {
  for (const file of singleProtocolCaptures()) {
    const top = rel(file).split(path.sep)[0];
    if (top === 'sip' || rel(file).startsWith(`built${path.sep}sip`)) continue;
    const r = await imPipeline(file, 0, null, registry);
    const found = r.verdicts.map((v) => v.protocol).filter((p) => p === 'sip' || p === 'msrp');
    t.same(found, [], `${rel(file)}: no SIP/MSRP`);
  }
});

t.test('1-byte TCP segments give the same rows and verdicts', async (t) => {
  for (const file of SIP_CAPTURES) {
    const whole = await imPipeline(file, 0, null, registry);
    const bytes = await imPipeline(file, 1, null, registry);
    t.same(canonicalRows(bytes.rows), canonicalRows(whole.rows), `${rel(file)}: rows`);
    t.same(bytes.verdicts, whole.verdicts, `${rel(file)}: verdicts`);
  }
});

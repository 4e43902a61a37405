/**
 * HTTP over the real captures of ../shared/pcaps, against tshark as the independent decoder:
 * - every HTTP request tshark dissects, in every capture, is an `http` row of the same flow (keyed by the 5-tuple),
 *   in the same order, with the same method, Host, URI and response status; and we report no request tshark does not;
 * - the 2010 facebook.com chat message is a `messages` row (app messenger, c2s) whose body, sender and recipient are
 *   the form fields as tshark decodes them; the flow is messenger/web by http;
 * - no password reaches any row: the login capture's form values, and a plain-HTTP login built here whose password
 *   tshark decodes from the same file, are searched for in every row;
 * - negatives stay non-IM; HTTP on the SIP port and on the IRC port without SYN are http;
 * - 1-byte TCP segments give the same rows.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { analyzeCapture, type AnalyzeResult, type FlowVerdict } from '../../src/decoders/im/analyze.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { tempDir } from '../helpers/temp.js';
import { run } from '../helpers/tools.js';

const SHARED = new URL('../../../shared/pcaps/', import.meta.url).pathname;

/** Captures where tshark needs to be told a port is HTTP (it dissects these flows as something else by port). */
const DECODE_AS: Record<string, number[]> = {
  // Client port 5060: tshark takes the flow for SIP ("Continuation") by port.
  'negatives/http_on_sip_port.pcap': [5060],
};

function captures(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|dmp)$/.test(e.name)) out.push(p);
    }
  };
  walk(SHARED);
  return out.sort();
}

const ep = (ip: string, port: number | string) => `${ip}:${port}`;
type Req = [method: string, host: string | null, uri: string, status: number | null];

interface TsharkPacket {
  _source: { layers: Record<string, string[]> };
}

/** tshark's HTTP requests per flow (client>server), in order, each with the status of the response tshark pairs with it. */
function tsharkRequests(file: string, decodeAs: number[]): Map<string, Req[]> {
  // Bodies are not waited for (a response cut short is still dissected), and TCP sequence analysis is off: in
  // KakaoTalk_talk.pcap the server's SYN-ACK is seen twice with different sequence numbers, and with the analysis on
  // tshark takes the response for a retransmission and never dissects it.
  const args = ['-n', '-r', file, '-o', 'http.desegment_body:FALSE', '-o', 'tcp.analyze_sequence_numbers:FALSE', '-Y', 'http', '-T', 'json'];
  for (const f of ['frame.number', 'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport', 'http.request.method', 'http.host', 'http.request.uri', 'http.response.code', 'http.request_in']) args.push('-e', f);
  for (const port of decodeAs) args.push('-d', `tcp.port==${port},http`);
  const packets = JSON.parse(run('tshark', args) || '[]') as TsharkPacket[];
  const byFrame = new Map<string, Req[]>();
  const out = new Map<string, Req[]>();
  for (const p of packets) {
    const l = p._source.layers;
    const f = l['frame.number']![0]!;
    const methods = l['http.request.method'] ?? [];
    methods.forEach((m, i) => {
      const key = `${ep((l['ip.src'] ?? l['ipv6.src'])![0]!, l['tcp.srcport']![0]!)}>${ep((l['ip.dst'] ?? l['ipv6.dst'])![0]!, l['tcp.dstport']![0]!)}`;
      const r: Req = [m, l['http.host']?.[i] ?? null, l['http.request.uri']?.[i] ?? '', null];
      (byFrame.get(f) ?? byFrame.set(f, []).get(f)!).push(r);
      (out.get(key) ?? out.set(key, []).get(key)!).push(r);
    });
    const codes = l['http.response.code'] ?? [];
    codes.forEach((c, i) => {
      const req = byFrame.get(l['http.request_in']?.[i] ?? '')?.find((r) => r[3] === null);
      if (req) req[3] = Number(c);
    });
  }
  return out;
}

function flowsById(r: AnalyzeResult): Map<number, FlowVerdict> {
  const m = new Map<number, FlowVerdict>();
  for (const v of [...r.flows, ...r.others]) m.set(v.flow_id, v);
  return m;
}

function ourRequests(r: AnalyzeResult): Map<string, Req[]> {
  const flows = flowsById(r);
  const out = new Map<string, Req[]>();
  for (const row of r.rows.http ?? []) {
    const v = flows.get(row.flow_id as number)!;
    const key = `${ep(v.client_ip, v.client_port)}>${ep(v.server_ip, v.server_port)}`;
    (out.get(key) ?? out.set(key, []).get(key)!).push([row.method as string, row.host as string | null, row.uri as string, row.status as number | null]);
  }
  return out;
}

const sorted = (m: Map<string, Req[]>) => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

t.test('every HTTP request tshark dissects is an http row with the same method, host, uri and status', async (t) => {
  let total = 0;
  for (const file of captures()) {
    const rel = path.relative(SHARED, file);
    const theirs = tsharkRequests(file, DECODE_AS[rel] ?? []);
    const ours = ourRequests(await analyzeCapture(file));
    t.same(sorted(ours), sorted(theirs), rel);
    for (const reqs of theirs.values()) total += reqs.length;
  }
  // The corpus holds 11 requests on 6 flows (web/, apps/, negatives/): a silent tshark would prove nothing.
  t.ok(total >= 10, `tshark found ${total} requests`);
});

/** The form fields tshark decodes in a capture's requests, as [key, value] pairs (values may hold commas). */
function tsharkForm(file: string): [string, string][] {
  const packets = JSON.parse(run('tshark', ['-n', '-r', file, '-Y', 'urlencoded-form', '-T', 'json', '-e', 'urlencoded-form.key', '-e', 'urlencoded-form.value']) || '[]') as TsharkPacket[];
  const out: [string, string][] = [];
  for (const p of packets) {
    const keys = p._source.layers['urlencoded-form.key'] ?? [];
    const values = p._source.layers['urlencoded-form.value'] ?? [];
    // tshark splits a pair at its first '=' before its '&': in `thread&post_form_id=…` (a field without a value,
    // then the next) it names the key `thread&post_form_id`. The field is the last part.
    keys.forEach((k, i) => out.push([k.split('&').pop()!, values[i] ?? '']));
  }
  return out;
}

t.test('the facebook.com chat message: a messenger message, fields as tshark decodes them', async (t) => {
  const file = path.join(SHARED, 'web/ppa2e_facebook_message.pcap');
  const form = new Map(tsharkForm(file));
  const r = await analyzeCapture(file);
  const msgs = r.rows.messages ?? [];
  t.equal(msgs.length, 1, 'one message');
  const m = msgs[0]!;
  t.equal(m.app, 'messenger');
  t.equal(m.direction, 'c2s');
  t.ok(form.has('status') && form.get('status')!.length > 0, 'tshark decodes a status field');
  t.equal(m.body, form.get('status'), 'body is the status field as tshark decodes it');
  t.equal(m.sender, form.get('profile_id'), 'sender: profile_id');
  t.equal(m.recipient, form.get('ids[0]'), 'recipient: ids[0]');
  t.equal(m.subject, form.get('subject'), 'subject');
  t.match(r.flows, [{ protocol: 'http', app: 'messenger', kind: 'web', method: 'http', confidence: 0.85, serverName: 'www.facebook.com' }]);
  // Nothing else of the form (the session tokens) is stored anywhere.
  const all = JSON.stringify(Object.values(r.rows).flat());
  for (const k of ['fb_dtsg', 'post_form_id', 'composer_id']) {
    const v = form.get(k);
    t.ok(v !== undefined && v.length >= 5, `tshark decodes ${k}`);
    t.notOk(all.includes(v!), `${k}'s value is in no row`);
  }
});

/** Every string and byte value of every row, as text, for searching. */
function everything(r: AnalyzeResult): string {
  return JSON.stringify(Object.values(r.rows).flat(), (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
}

t.test('the login capture: no form value tshark shows is stored (the password itself went over TLS)', async (t) => {
  const file = path.join(SHARED, 'web/ppa2e_facebook_login.pcap');
  const form = tsharkForm(file);
  t.ok(form.length > 0, 'tshark decodes form fields in the clear part');
  t.notOk(form.some(([k]) => /pass/i.test(k)), 'no password field in clear: the login POST is inside TLS (port 443)');
  const all = everything(await analyzeCapture(file));
  for (const [k, v] of form) if (v.length >= 4) t.notOk(all.includes(v), `${k}'s value is in no row`);
});

t.test('a plain-HTTP facebook.com login: the account as a login event, the password nowhere', async (t) => {
  const dir = tempDir('http-login');
  const file = path.join(dir, 'login.pcap');
  const body = 'charset_test=%E2%82%AC&email=alice%40example.org&pass=Tr0ub4dor%263&persistent=1';
  const req = `POST /login.php?login_attempt=1 HTTP/1.1\r\nHost: login.facebook.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const resp = 'HTTP/1.1 302 Found\r\nLocation: http://www.facebook.com/home.php\r\nContent-Length: 0\r\n\r\n';
  fs.writeFileSync(file, conversationPcap([{ client: '10.0.0.1', server: '10.0.0.2', cport: 40000, sport: 80, parts: [[0, req], [1, resp]], mss: 100 }]));
  const form = new Map(tsharkForm(file));
  const password = form.get('pass');
  t.equal(typeof password, 'string', 'tshark decodes the pass field');
  t.ok(password!.length >= 8);
  const r = await analyzeCapture(file);
  const all = everything(r);
  t.notOk(all.includes(password!), 'the password is in no row');
  t.notOk(all.includes('Tr0ub4dor'), 'nor its start');
  t.match(r.rows.events, [{ event: 'login', account: form.get('email'), app: 'messenger', direction: 'c2s' }]);
  t.match(r.rows.accounts, [{ account: form.get('email'), app: 'messenger' }]);
  t.same((r.rows.http ?? []).map((h) => [h.method, h.host, h.status]), [['POST', 'login.facebook.com', 302]]);
});

t.test('negatives: no IM; HTTP on the SIP port and on the IRC port without SYN is http', async (t) => {
  for (const f of fs.readdirSync(path.join(SHARED, 'negatives')).filter((x) => /\.pcap(ng)?$/.test(x))) {
    const r = await analyzeCapture(path.join(SHARED, 'negatives', f));
    t.same(r.flows, [], `${f}: no flow names an app`);
    t.same(r.rows.messages, [], `${f}: no messages`);
  }
  const sip = await analyzeCapture(path.join(SHARED, 'negatives/http_on_sip_port.pcap'));
  t.same([...sip.flows, ...sip.others].filter((v) => v.transport === 'tcp').map((v) => [v.protocol, v.client_port, v.server_port]), [['http', 5060, 8888]]);
  const irc = await analyzeCapture(path.join(SHARED, 'negatives/tcp_http-on-irc-port-missing-syn.pcapng'));
  t.same([...irc.flows, ...irc.others].map((v) => [v.protocol, v.serverName, v.client_port, v.server_port]), [['http', 'bro.org', 6669, 80]]);
});

t.test('1-byte TCP segments give the same rows', async (t) => {
  for (const rel of ['web/ppa2e_facebook_message.pcap', 'web/ppa2e_facebook_login.pcap', 'apps/sites.pcapng', 'negatives/tcp_http-on-irc-port-missing-syn.pcapng', 'negatives/http_on_sip_port.pcap']) {
    const file = path.join(SHARED, rel);
    const whole = await imPipeline(file);
    const bytes = await imPipeline(file, 1);
    t.ok((whole.rows.http ?? []).length > 0, `${rel}: http rows`);
    t.same(canonicalRows(bytes.rows), canonicalRows(whole.rows), rel);
  }
});

/**
 * A finished flow as a plain record: what `imtap inspect --flows` prints and what storage will write. Built once per
 * flow when it ends (not on the per-packet path).
 */
import { addressText, C_BYTES, C_FLAGS, C_PACKETS, C_PAYLOAD, clientText, flowEnd, flowStart, FlowState, serverText, type Flow } from './flow.js';
import { isoTime, secondsBetween, writeAscii, writeIsoTime } from '../util/time.js';

export interface FlowRecord {
  id: number;
  transport: 'tcp' | 'udp';
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  /** How the client was told from the server: syn, synack, port (no handshake seen), first_packet, expected. */
  orientation: string;
  vlan: number[];
  tunnelDepth: number;
  /** First and last packet, ISO 8601 UTC with nanoseconds. */
  start: string;
  end: string;
  durationSeconds: number;
  state: 'new' | 'established' | 'closed' | 'udp';
  endReason: string;
  /** Per direction: [client → server, server → client]. */
  packets: number[];
  bytes: number[];
  payloadBytes: number[];
  tcpFlags: string[];
  retransmissions: number[];
  outOfOrder: number[];
  gaps: number[];
  gapBytes: number[];
  anomalies: Record<string, number>;
  expected: string | null;
}

const FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'];

/** "SYN,ACK"-style text of all 512 flag combinations, made once. */
const FLAG_TEXT = Array.from({ length: 512 }, (_, bits) => FLAG_NAMES.filter((_n, i) => bits & (1 << i)).join(','));

function flagText(bits: number): string {
  return FLAG_TEXT[bits & 511]!;
}

const two = (a: number, b: number) => `[${a},${b}]`;

function stateOf(f: Flow): FlowRecord['state'] {
  return f.proto === 17 ? 'udp' : f.state === FlowState.Closed ? 'closed' : f.state === FlowState.Established ? 'established' : 'new';
}

export function flowRecord(f: Flow, digits = 6): FlowRecord {
  const [ss, sn] = flowStart(f);
  const [es, en] = flowEnd(f);
  const st = f.streams;
  const per = (g: (d: 0 | 1) => number) => [g(0), g(1)];
  return {
    id: f.id,
    transport: f.proto === 6 ? 'tcp' : 'udp',
    client: clientText(f),
    clientPort: f.cport,
    server: serverText(f),
    serverPort: f.sport,
    orientation: f.orientation,
    vlan: [f.vlanOuter, f.vlanInner].filter((v) => v >= 0),
    tunnelDepth: f.tunnelDepth,
    start: isoTime(ss, sn, digits),
    end: isoTime(es, en, digits),
    durationSeconds: secondsBetween(es, en, ss, sn),
    state: stateOf(f),
    endReason: f.endReason ?? 'live',
    packets: f.packets,
    bytes: f.bytes,
    payloadBytes: f.payloadBytes,
    tcpFlags: f.proto === 6 ? f.tcpFlags.map(flagText) : [],
    retransmissions: per((d) => st[d]?.retransmissions ?? 0),
    outOfOrder: per((d) => st[d]?.outOfOrder ?? 0),
    gaps: per((d) => st[d]?.gaps ?? 0),
    gapBytes: per((d) => st[d]?.gapBytes ?? 0),
    anomalies: f.anomalies ? Object.fromEntries(f.anomalies) : {},
    expected: f.expected?.analyzer ?? null,
  };
}

/**
 * The flow as JSON, equal to JSON.stringify(flowRecord(f, digits)) but written straight from the flow: a listing
 * writes tens of thousands, and the intermediate record costs more than the text. Only fields that can hold
 * arbitrary text go through JSON.stringify.
 */
export function flowJson(f: Flow, digits = 6): string {
  const [ss, sn] = flowStart(f);
  const [es, en] = flowEnd(f);
  const c = f.c;
  const st0 = f.streams[0];
  const st1 = f.streams[1];
  const vlan = f.vlanOuter < 0 ? '[]' : f.vlanInner < 0 ? `[${f.vlanOuter}]` : `[${f.vlanOuter},${f.vlanInner}]`;
  const tcp = f.proto === 6;
  return (
    `{"id":${f.id},"transport":"${tcp ? 'tcp' : 'udp'}","client":"${clientText(f)}","clientPort":${f.cport},"server":"${serverText(f)}","serverPort":${f.sport},` +
    `"orientation":"${f.orientation}","vlan":${vlan},"tunnelDepth":${f.tunnelDepth},"start":"${isoTime(ss, sn, digits)}","end":"${isoTime(es, en, digits)}",` +
    `"durationSeconds":${String(secondsBetween(es, en, ss, sn))},` +
    `"state":"${stateOf(f)}","endReason":"${f.endReason ?? 'live'}",` +
    `"packets":${two(c[C_PACKETS]!, c[C_PACKETS + 1]!)},"bytes":${two(c[C_BYTES]!, c[C_BYTES + 1]!)},"payloadBytes":${two(c[C_PAYLOAD]!, c[C_PAYLOAD + 1]!)},` +
    `"tcpFlags":${tcp ? `["${flagText(c[C_FLAGS]!)}","${flagText(c[C_FLAGS + 1]!)}"]` : '[]'},` +
    `"retransmissions":${two(st0?.retransmissions ?? 0, st1?.retransmissions ?? 0)},"outOfOrder":${two(st0?.outOfOrder ?? 0, st1?.outOfOrder ?? 0)},` +
    `"gaps":${two(st0?.gaps ?? 0, st1?.gaps ?? 0)},"gapBytes":${two(st0?.gapBytes ?? 0, st1?.gapBytes ?? 0)},` +
    `"anomalies":${f.anomalies ? JSON.stringify(Object.fromEntries(f.anomalies)) : '{}'},"expected":${JSON.stringify(f.expected?.analyzer ?? null)}}`
  );
}

/** Where writeFlowJson writes: a buffer and its first free byte (cli/output's ByteSink fits). */
export interface JsonBytes {
  buf: Uint8Array;
  pos: number;
  /** Make room for at least `n` (up to 64 KiB) more bytes; may replace `buf` and reset `pos`. */
  reserve(n: number): void;
}

const ascii = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const K_ID = ascii('{"id":');
const K_TCP_CLIENT = ascii(',"transport":"tcp","client":"');
const K_UDP_CLIENT = ascii(',"transport":"udp","client":"');
const K_CLIENT_PORT = ascii('","clientPort":');
const K_SERVER = ascii(',"server":"');
const K_SERVER_PORT = ascii('","serverPort":');
const K_ORIENTATION = ascii(',"orientation":"');
const K_VLAN = ascii('","vlan":[');
const K_TUNNEL = ascii('],"tunnelDepth":');
const K_START = ascii(',"start":"');
const K_END = ascii('","end":"');
const K_DURATION = ascii('","durationSeconds":');
const K_STATE = ascii(',"state":"');
const K_END_REASON = ascii('","endReason":"');
const K_PACKETS = ascii('","packets":[');
const K_BYTES = ascii('],"bytes":[');
const K_PAYLOAD = ascii('],"payloadBytes":[');
const K_FLAGS = ascii('],"tcpFlags":[');
const K_RETRANS = ascii('],"retransmissions":[');
const K_OOO = ascii('],"outOfOrder":[');
const K_GAPS = ascii('],"gaps":[');
const K_GAP_BYTES = ascii('],"gapBytes":[');
const K_ANOMALIES = ascii('],"anomalies":');
const K_EXPECTED = ascii(',"expected":');

function put(buf: Uint8Array, pos: number, k: Uint8Array): number {
  for (let i = 0; i < k.length; i++) buf[pos++] = k[i]!;
  return pos;
}

/** String(n) for the counters and ids (integers below 2^32 as digits; anything else through String). */
function putNum(buf: Uint8Array, pos: number, n: number): number {
  if (n >>> 0 !== n) return writeAscii(buf, pos, String(n));
  if (n < 10) {
    buf[pos] = 48 + n;
    return pos + 1;
  }
  let len = 2;
  for (let t = 100; t <= n && len < 10; t *= 10) len++;
  let e = pos + len;
  while (n >= 10) {
    const q = Math.floor(n / 10);
    buf[--e] = 48 + n - q * 10;
    n = q;
  }
  buf[--e] = 48 + n;
  return pos + len;
}

function putAddress(buf: Uint8Array, pos: number, version: number, w0: number, w1: number, w2: number, w3: number): number {
  if (version !== 4) return writeAscii(buf, pos, addressText(version, w0, w1, w2, w3));
  pos = putNum(buf, pos, w0 >>> 24);
  buf[pos++] = 46;
  pos = putNum(buf, pos, (w0 >>> 16) & 255);
  buf[pos++] = 46;
  pos = putNum(buf, pos, (w0 >>> 8) & 255);
  buf[pos++] = 46;
  return putNum(buf, pos, w0 & 255);
}

/** `[a,b` (the caller closes it). */
function putPair(buf: Uint8Array, pos: number, a: number, b: number): number {
  pos = putNum(buf, pos, a);
  buf[pos++] = 44;
  return putNum(buf, pos, b);
}

/** Text that may be long or not ASCII (JSON.stringify of analyzer names and anomaly codes) goes through `write`. */
function putText(out: JsonBytes, write: (s: string) => void, s: string): void {
  let plain = s.length <= 4096;
  for (let i = 0; plain && i < s.length; i++) if (s.charCodeAt(i) > 127) plain = false;
  if (plain) {
    out.reserve(s.length);
    out.pos = writeAscii(out.buf, out.pos, s);
  } else write(s);
}

/** Room for a flow's record without its anomalies and expected analyzer (those are reserved for separately). */
const RECORD_MAX = 2048;

/**
 * `${first ? '' : ','}\n${flowJson(f, digits)}` as bytes, into `out` (text that is not plain ASCII through `write`,
 * which must append to the same output). A listing of tens of thousands of flows spends most of its time making and
 * encoding strings otherwise.
 */
export function writeFlowJson(f: Flow, digits: number, first: boolean, out: JsonBytes, write: (s: string) => void): void {
  const [ss, sn] = flowStart(f);
  const [es, en] = flowEnd(f);
  const c = f.c;
  const st0 = f.streams[0];
  const st1 = f.streams[1];
  const tcp = f.proto === 6;
  out.reserve(RECORD_MAX);
  const buf = out.buf;
  let p = out.pos;
  if (!first) buf[p++] = 44;
  buf[p++] = 10;
  p = put(buf, p, K_ID);
  p = putNum(buf, p, f.id);
  p = put(buf, p, tcp ? K_TCP_CLIENT : K_UDP_CLIENT);
  p = putAddress(buf, p, f.ipVersion, f.c0, f.c1, f.c2, f.c3);
  p = put(buf, p, K_CLIENT_PORT);
  p = putNum(buf, p, f.cport);
  p = put(buf, p, K_SERVER);
  p = putAddress(buf, p, f.ipVersion, f.s0, f.s1, f.s2, f.s3);
  p = put(buf, p, K_SERVER_PORT);
  p = putNum(buf, p, f.sport);
  p = put(buf, p, K_ORIENTATION);
  p = writeAscii(buf, p, f.orientation);
  p = put(buf, p, K_VLAN);
  if (f.vlanOuter >= 0) {
    p = putNum(buf, p, f.vlanOuter);
    if (f.vlanInner >= 0) {
      buf[p++] = 44;
      p = putNum(buf, p, f.vlanInner);
    }
  }
  p = put(buf, p, K_TUNNEL);
  p = putNum(buf, p, f.tunnelDepth);
  p = put(buf, p, K_START);
  p = writeIsoTime(buf, p, ss, sn, digits);
  p = put(buf, p, K_END);
  p = writeIsoTime(buf, p, es, en, digits);
  p = put(buf, p, K_DURATION);
  p = writeAscii(buf, p, String(secondsBetween(es, en, ss, sn)));
  p = put(buf, p, K_STATE);
  p = writeAscii(buf, p, stateOf(f));
  p = put(buf, p, K_END_REASON);
  p = writeAscii(buf, p, f.endReason ?? 'live');
  p = put(buf, p, K_PACKETS);
  p = putPair(buf, p, c[C_PACKETS]!, c[C_PACKETS + 1]!);
  p = put(buf, p, K_BYTES);
  p = putPair(buf, p, c[C_BYTES]!, c[C_BYTES + 1]!);
  p = put(buf, p, K_PAYLOAD);
  p = putPair(buf, p, c[C_PAYLOAD]!, c[C_PAYLOAD + 1]!);
  p = put(buf, p, K_FLAGS);
  if (tcp) {
    buf[p++] = 34;
    p = writeAscii(buf, p, flagText(c[C_FLAGS]!));
    buf[p++] = 34;
    buf[p++] = 44;
    buf[p++] = 34;
    p = writeAscii(buf, p, flagText(c[C_FLAGS + 1]!));
    buf[p++] = 34;
  }
  p = put(buf, p, K_RETRANS);
  p = putPair(buf, p, st0?.retransmissions ?? 0, st1?.retransmissions ?? 0);
  p = put(buf, p, K_OOO);
  p = putPair(buf, p, st0?.outOfOrder ?? 0, st1?.outOfOrder ?? 0);
  p = put(buf, p, K_GAPS);
  p = putPair(buf, p, st0?.gaps ?? 0, st1?.gaps ?? 0);
  p = put(buf, p, K_GAP_BYTES);
  p = putPair(buf, p, st0?.gapBytes ?? 0, st1?.gapBytes ?? 0);
  p = put(buf, p, K_ANOMALIES);
  if (f.anomalies) {
    out.pos = p;
    putText(out, write, JSON.stringify(Object.fromEntries(f.anomalies)));
    out.reserve(RECORD_MAX);
    p = out.pos;
  } else {
    buf[p++] = 123;
    buf[p++] = 125;
  }
  const b2 = out.buf;
  p = put(b2, p, K_EXPECTED);
  if (f.expected) {
    out.pos = p;
    putText(out, write, JSON.stringify(f.expected.analyzer ?? null));
    out.reserve(1);
    p = out.pos;
  } else p = writeAscii(b2, p, 'null');
  out.buf[p++] = 125;
  out.pos = p;
}

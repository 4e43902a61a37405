/**
 * A finished flow as a plain record: what `imtap inspect --flows` prints and what storage will write. Built once per
 * flow when it ends (not on the per-packet path).
 */
import { addressText, clientText, Counter, type Flow, flowEnd, flowStart, FlowState, serverText } from './flow.js';
import { DIGIT_PAIRS, isoTime, secondsBetween, writeAscii, writeIsoTime, writeNineDigits } from '../util/time.js';

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
    `"packets":${two(c[Counter.Packets]!, c[Counter.Packets + 1]!)},"bytes":${two(c[Counter.Bytes]!, c[Counter.Bytes + 1]!)},"payloadBytes":${two(c[Counter.Payload]!, c[Counter.Payload + 1]!)},` +
    `"tcpFlags":${tcp ? `["${flagText(c[Counter.Flags]!)}","${flagText(c[Counter.Flags + 1]!)}"]` : '[]'},` +
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

/**
 * A constant piece of ASCII text as float64 words of its 8-byte pieces, written with a store per 8 bytes (a byte
 * loop took most of a record's time). Padded with '0's to a fixed number of words (2 to 15), all of them written
 * (what follows overwrites the padding), so that writing one is straight-line code with no branch: it is inlined
 * at every call, and loops there made the record writer slow to optimize. Bytes of ASCII text never make a NaN,
 * so the words copy exactly.
 */
type Words = 2 | 3 | 4 | 5 | 8 | 11 | 15;

interface Chunk<N extends Words> {
  words: Float64Array;
  length: number;
  size: N;
}

function chunk<N extends Words>(text: string, size: N): Chunk<N> {
  if (text.length === 0 || text.length > size * 8) throw new Error(`chunk: ${text.length} bytes in ${size} words`);
  const bytes = new Uint8Array(size * 8).fill(48);
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch > 127) throw new Error(`chunk: not ASCII: ${text}`);
    bytes[i] = ch;
  }
  const view = new DataView(bytes.buffer);
  const words = new Float64Array(size);
  for (let i = 0; i < size; i++) words[i] = view.getFloat64(i * 8, true);
  return { words, length: text.length, size };
}

function put2(view: DataView, pos: number, k: Chunk<2>): number {
  const w = k.words;
  view.setFloat64(pos, w[0]!, true);
  view.setFloat64(pos + 8, w[1]!, true);
  return pos + k.length;
}

function put3(view: DataView, pos: number, k: Chunk<3>): number {
  const w = k.words;
  view.setFloat64(pos, w[0]!, true);
  view.setFloat64(pos + 8, w[1]!, true);
  view.setFloat64(pos + 16, w[2]!, true);
  return pos + k.length;
}

function put4(view: DataView, pos: number, k: Chunk<4>): number {
  const w = k.words;
  view.setFloat64(pos, w[0]!, true);
  view.setFloat64(pos + 8, w[1]!, true);
  view.setFloat64(pos + 16, w[2]!, true);
  view.setFloat64(pos + 24, w[3]!, true);
  return pos + k.length;
}

function put5(view: DataView, pos: number, k: Chunk<5>): number {
  const w = k.words;
  view.setFloat64(pos, w[0]!, true);
  view.setFloat64(pos + 8, w[1]!, true);
  view.setFloat64(pos + 16, w[2]!, true);
  view.setFloat64(pos + 24, w[3]!, true);
  view.setFloat64(pos + 32, w[4]!, true);
  return pos + k.length;
}

function put11(view: DataView, pos: number, k: Chunk<11>): number {
  const w = k.words;
  view.setFloat64(pos, w[0]!, true);
  view.setFloat64(pos + 8, w[1]!, true);
  view.setFloat64(pos + 16, w[2]!, true);
  view.setFloat64(pos + 24, w[3]!, true);
  view.setFloat64(pos + 32, w[4]!, true);
  view.setFloat64(pos + 40, w[5]!, true);
  view.setFloat64(pos + 48, w[6]!, true);
  view.setFloat64(pos + 56, w[7]!, true);
  view.setFloat64(pos + 64, w[8]!, true);
  view.setFloat64(pos + 72, w[9]!, true);
  view.setFloat64(pos + 80, w[10]!, true);
  return pos + k.length;
}

function put15(view: DataView, pos: number, k: Chunk<15>): number {
  const w = k.words;
  view.setFloat64(pos, w[0]!, true);
  view.setFloat64(pos + 8, w[1]!, true);
  view.setFloat64(pos + 16, w[2]!, true);
  view.setFloat64(pos + 24, w[3]!, true);
  view.setFloat64(pos + 32, w[4]!, true);
  view.setFloat64(pos + 40, w[5]!, true);
  view.setFloat64(pos + 48, w[6]!, true);
  view.setFloat64(pos + 56, w[7]!, true);
  view.setFloat64(pos + 64, w[8]!, true);
  view.setFloat64(pos + 72, w[9]!, true);
  view.setFloat64(pos + 80, w[10]!, true);
  view.setFloat64(pos + 88, w[11]!, true);
  view.setFloat64(pos + 96, w[12]!, true);
  view.setFloat64(pos + 104, w[13]!, true);
  view.setFloat64(pos + 112, w[14]!, true);
  return pos + k.length;
}

function put8(view: DataView, pos: number, k: Chunk<8>): number {
  const w = k.words;
  view.setFloat64(pos, w[0]!, true);
  view.setFloat64(pos + 8, w[1]!, true);
  view.setFloat64(pos + 16, w[2]!, true);
  view.setFloat64(pos + 24, w[3]!, true);
  view.setFloat64(pos + 32, w[4]!, true);
  view.setFloat64(pos + 40, w[5]!, true);
  view.setFloat64(pos + 48, w[6]!, true);
  view.setFloat64(pos + 56, w[7]!, true);
  return pos + k.length;
}

const K_ID_FIRST = chunk('\n{"id":', 2);
const K_ID_NEXT = chunk(',\n{"id":', 2);
const K_TCP_CLIENT = chunk(',"transport":"tcp","client":"', 4);
const K_UDP_CLIENT = chunk(',"transport":"udp","client":"', 4);
const K_CLIENT_PORT = chunk('","clientPort":', 2);
const K_SERVER = chunk(',"server":"', 2);
const K_SERVER_PORT = chunk('","serverPort":', 2);
const ORIENTATIONS = ['syn', 'synack', 'port', 'first_packet', 'expected'];
/** `,"orientation":"syn","vlan":[` for each orientation. */
const K_ORIENTATION_VLAN = ORIENTATIONS.map((o) => chunk(`,"orientation":"${o}","vlan":[`, 5));
const K_ORIENTATION = chunk(',"orientation":"', 2);
const K_VLAN = chunk('","vlan":[', 2);
const K_TUNNEL = chunk('],"tunnelDepth":', 2);
const K_START = chunk(',"start":"', 2);
const K_END = chunk('","end":"', 2);
const K_DURATION = chunk('","durationSeconds":', 3);
const STATES: FlowRecord['state'][] = ['new', 'established', 'closed', 'udp'];
const END_REASONS = ['closed', 'timeout', 'evicted', 'reused', 'end_of_input', 'live'];
/** `,"state":"udp","endReason":"timeout","packets":[` for each state (index of STATES) and end reason (of END_REASONS). */
const K_STATE_END = STATES.flatMap((st) => END_REASONS.map((r) => chunk(`,"state":"${st}","endReason":"${r}","packets":[`, 8)));
const K_STATE = chunk(',"state":"', 2);
const K_END_REASON = chunk('","endReason":"', 2);
const K_PACKETS = chunk('","packets":[', 3);
const K_BYTES = chunk('],"bytes":[', 3);
const K_PAYLOAD = chunk('],"payloadBytes":[', 3);
const K_FLAGS_TCP = chunk('],"tcpFlags":[', 2);
const K_FLAGS_UDP = chunk('],"tcpFlags":[],"retransmissions":[', 5);
/** `"SYN,ACK",` (client side) and `"SYN,ACK"],"retransmissions":[` (server side) per flag combination, made when first used. */
const K_FLAGS_C: (Chunk<5> | undefined)[] = new Array<Chunk<5> | undefined>(512).fill(undefined);
const K_FLAGS_S: (Chunk<8> | undefined)[] = new Array<Chunk<8> | undefined>(512).fill(undefined);
/** The counters written as pairs (index into Flow.c) and what comes before each but the first. */
const COUNTERS = [Counter.Packets, Counter.Bytes, Counter.Payload];
const K_COUNTERS = [K_PACKETS, K_BYTES, K_PAYLOAD];
/** Before each stream counter pair but the first (retransmissions, outOfOrder, gaps, gapBytes). */
const K_STREAM = [K_FLAGS_TCP /* not used */, chunk('],"outOfOrder":[', 2), chunk('],"gaps":[', 2), chunk('],"gapBytes":[', 2)];
/** The stream counters of a flow, [client, server] for each of the four (no array per flow). */
const streamValues = new Float64Array(8);
const K_ANOMALIES = chunk('],"anomalies":', 2);
const K_NONE = chunk('],"anomalies":{},"expected":null}', 5);
/** The rest of a record after `"retransmissions":[` when its stream counters are 0 and it has no anomalies and no expectation. */
const ZERO_TAIL = '0,0],"outOfOrder":[0,0],"gaps":[0,0],"gapBytes":[0,0],"anomalies":{},"expected":null}';
const K_ZERO_TAIL = chunk(ZERO_TAIL, 11);
/** The same for UDP (most flows), from the TCP flags on. */
const K_UDP_ZERO_TAIL = chunk(`],"tcpFlags":[],"retransmissions":[${ZERO_TAIL}`, 15);
/** "255." for each octet: 4 bytes, the dot after the digits (overwritten after the last octet), and its length. */
const OCTET = Uint32Array.from({ length: 256 }, (_, n) => {
  const t = `${n}.`;
  let v = 0;
  for (let i = t.length - 1; i >= 0; i--) v = (v << 8) | t.charCodeAt(i);
  return v >>> 0;
});
const OCTET_LEN = Uint8Array.from({ length: 256 }, (_, n) => (n < 10 ? 1 : n < 100 ? 2 : 3));

function stateIndex(f: Flow): number {
  return f.proto === 17 ? 3 : f.state === FlowState.Closed ? 2 : f.state === FlowState.Established ? 1 : 0;
}

function endReasonIndex(r: string | null): number {
  switch (r) {
    case 'closed':
      return 0;
    case 'timeout':
      return 1;
    case 'evicted':
      return 2;
    case 'reused':
      return 3;
    case 'end_of_input':
      return 4;
    case null:
      return 5;
    default:
      return -1;
  }
}

function orientationIndex(o: string): number {
  switch (o) {
    case 'syn':
      return 0;
    case 'synack':
      return 1;
    case 'port':
      return 2;
    case 'first_packet':
      return 3;
    case 'expected':
      return 4;
    default:
      return -1;
  }
}

/** String(n) for the counters and ids (integers below 2^32 as digits; anything else through String). */
function putNum(buf: Uint8Array, view: DataView, pos: number, n: number): number {
  if (n >>> 0 !== n) return writeAscii(buf, pos, String(n));
  if (n < 10) {
    buf[pos] = 48 + n;
    return pos + 1;
  }
  const pairs = DIGIT_PAIRS; // (one load of the imported binding, not one per use)
  if (n < 100) {
    view.setUint16(pos, pairs[n]!, true);
    return pos + 2;
  }
  const len = n < 1e3 ? 3 : n < 1e4 ? 4 : n < 1e5 ? 5 : n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10;
  let e = pos + len;
  while (n >= 100) {
    const q = Math.floor(n / 100);
    e -= 2;
    view.setUint16(e, pairs[n - q * 100]!, true);
    n = q;
  }
  if (n >= 10) view.setUint16(e - 2, pairs[n]!, true);
  else buf[e - 1] = 48 + n;
  return pos + len;
}

/** `[a,b` (the caller closes it). */
function putPair(buf: Uint8Array, view: DataView, pos: number, a: number, b: number): number {
  pos = putNum(buf, view, pos, a);
  buf[pos++] = 44;
  return putNum(buf, view, pos, b);
}

function putAddress(buf: Uint8Array, view: DataView, pos: number, version: number, w0: number, w1: number, w2: number, w3: number): number {
  if (version !== 4) return writeAscii(buf, pos, addressText(version, w0, w1, w2, w3));
  let o = w0 >>> 24;
  view.setUint32(pos, OCTET[o]!, true);
  pos += OCTET_LEN[o]! + 1;
  o = (w0 >>> 16) & 255;
  view.setUint32(pos, OCTET[o]!, true);
  pos += OCTET_LEN[o]! + 1;
  o = (w0 >>> 8) & 255;
  view.setUint32(pos, OCTET[o]!, true);
  pos += OCTET_LEN[o]! + 1;
  o = w0 & 255;
  view.setUint32(pos, OCTET[o]!, true);
  return pos + OCTET_LEN[o]!;
}

/**
 * String(secondsBetween(es, en, ss, sn)) without the number-to-text conversion when the nanoseconds N between them
 * are a whole number, at least 1000 (String writes exponents below 10^-6 s) and below 10^15, and N / 10^9 (a
 * correctly rounded division, both exact) is the same double: there nanosecond steps are more than two units in the last place apart,
 * so N's decimal text, trailing zeros dropped, is the only shortest text that reads back as that double, which is
 * what String writes. Checked against String on 20 million random spans.
 */
function putDuration(buf: Uint8Array, view: DataView, pos: number, es: number, en: number, ss: number, sn: number): number {
  const d = secondsBetween(es, en, ss, sn);
  const n = (es - ss) * 1e9 + (en - sn);
  if (!(n >= 1000 && n < 1e15 && Number.isInteger(n) && n / 1e9 === d)) {
    if (d === 0) {
      buf[pos] = 48; // String(0) and String(-0): one-packet flows
      return pos + 1;
    }
    return writeAscii(buf, pos, String(d));
  }
  const whole = Math.floor(n / 1e9);
  const frac = n - whole * 1e9;
  pos = putNum(buf, view, pos, whole);
  if (frac === 0) return pos;
  buf[pos++] = 46; // .
  writeNineDigits(buf, view, pos, frac);
  let keep = 9;
  let f = frac | 0; // below 10^9: integer arithmetic
  while (f % 10 === 0) {
    f = (f / 10) | 0;
    keep--;
  }
  return pos + keep;
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

let viewOf: Uint8Array | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** The earliest or latest packet time of a flow (flowStart/flowEnd without an array per call), in edgeSec/edgeNsec. */
let edgeSec = 0;
let edgeNsec = 0;
function edgeTime(c: number[], at: number, earliest: boolean): void {
  const ns = at + 2;
  let d = 0;
  if (c[Counter.Packets + 1] === 0) d = 0;
  else if (c[Counter.Packets] === 0) d = 1;
  else {
    const zeroFirst = c[at]! < c[at + 1]! || (c[at] === c[at + 1] && c[ns]! <= c[ns + 1]!);
    d = zeroFirst === earliest ? 0 : 1;
  }
  edgeSec = c[at + d]!;
  edgeNsec = c[ns + d]!;
}

/**
 * `${first ? '' : ','}\n${flowJson(f, digits)}` as bytes, into `out` (text that is not plain ASCII through `write`,
 * which must append to the same output). A listing of tens of thousands of flows spends most of its time making and
 * encoding strings otherwise.
 */
export function writeFlowJson(f: Flow, digits: number, first: boolean, out: JsonBytes, write: (s: string) => void): void {
  out.reserve(RECORD_MAX);
  const buf = out.buf;
  if (buf !== viewOf) {
    viewOf = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  out.pos = writeRecord(f, digits, first, buf, view, out.pos);
  if (f.anomalies === null && f.expected === null) return;
  if (f.anomalies) putText(out, write, JSON.stringify(Object.fromEntries(f.anomalies)));
  else putText(out, write, '{}');
  putText(out, write, ',"expected":');
  putText(out, write, f.expected ? JSON.stringify(f.expected.analyzer ?? null) : 'null');
  putText(out, write, '}');
}

/**
 * The record into `buf` from `pos` (at least RECORD_MAX bytes free), through `"anomalies":` when the flow has
 * anomalies or an expectation, else whole; returns the position after it. Apart from writeFlowJson, which inlines
 * the output's reserve (and what that calls, whose changes can make V8 optimize it again): this, the bulk of the
 * work, is optimized once.
 */
function writeRecord(f: Flow, digits: number, first: boolean, buf: Uint8Array, v: DataView, pos: number): number {
  const c = f.c;
  edgeTime(c, Counter.FirstSec, true);
  const ss = edgeSec;
  const sn = edgeNsec;
  edgeTime(c, Counter.LastSec, false);
  const es = edgeSec;
  const en = edgeNsec;
  const st0 = f.streams[0];
  const st1 = f.streams[1];
  const tcp = f.proto === 6;
  let p = put2(v, pos, first ? K_ID_FIRST : K_ID_NEXT);
  p = putNum(buf, v, p, f.id);
  p = put4(v, p, tcp ? K_TCP_CLIENT : K_UDP_CLIENT);
  p = putAddress(buf, v, p, f.ipVersion, f.c0, f.c1, f.c2, f.c3);
  p = put2(v, p, K_CLIENT_PORT);
  p = putNum(buf, v, p, f.cport);
  p = put2(v, p, K_SERVER);
  p = putAddress(buf, v, p, f.ipVersion, f.s0, f.s1, f.s2, f.s3);
  p = put2(v, p, K_SERVER_PORT);
  p = putNum(buf, v, p, f.sport);
  const oi = orientationIndex(f.orientation);
  if (oi >= 0) p = put5(v, p, K_ORIENTATION_VLAN[oi]!);
  else {
    p = put2(v, p, K_ORIENTATION);
    p = writeAscii(buf, p, f.orientation);
    p = put2(v, p, K_VLAN);
  }
  if (f.vlanOuter >= 0) {
    p = putNum(buf, v, p, f.vlanOuter);
    if (f.vlanInner >= 0) {
      buf[p++] = 44;
      p = putNum(buf, v, p, f.vlanInner);
    }
  }
  p = put2(v, p, K_TUNNEL);
  p = putNum(buf, v, p, f.tunnelDepth);
  p = put2(v, p, K_START);
  p = writeIsoTime(buf, v, p, ss, sn, digits);
  p = put2(v, p, K_END);
  p = writeIsoTime(buf, v, p, es, en, digits);
  p = put3(v, p, K_DURATION);
  p = putDuration(buf, v, p, es, en, ss, sn);
  const si = stateIndex(f);
  const ri = endReasonIndex(f.endReason);
  if (ri >= 0) p = put8(v, p, K_STATE_END[si * END_REASONS.length + ri]!);
  else {
    p = put2(v, p, K_STATE);
    p = writeAscii(buf, p, STATES[si]!);
    p = put2(v, p, K_END_REASON);
    p = writeAscii(buf, p, f.endReason ?? 'live');
    p = put3(v, p, K_PACKETS);
  }
  // Pairs in loops rather than one after the other: a smaller function, compiled sooner.
  for (let i = 0; i < 3; i++) {
    if (i > 0) p = put3(v, p, K_COUNTERS[i]!);
    p = putPair(buf, v, p, c[COUNTERS[i]!]!, c[COUNTERS[i]! + 1]!);
  }
  const plain =
    f.anomalies === null &&
    f.expected === null &&
    (st0 === null || (st0.retransmissions === 0 && st0.outOfOrder === 0 && st0.gaps === 0 && st0.gapBytes === 0)) &&
    (st1 === null || (st1.retransmissions === 0 && st1.outOfOrder === 0 && st1.gaps === 0 && st1.gapBytes === 0));
  if (plain && !tcp) return put15(v, p, K_UDP_ZERO_TAIL);
  if (tcp) {
    p = put2(v, p, K_FLAGS_TCP);
    const a = c[Counter.Flags]! & 511;
    const b = c[Counter.Flags + 1]! & 511;
    p = put5(v, p, K_FLAGS_C[a] ?? (K_FLAGS_C[a] = chunk(`"${flagText(a)}",`, 5)));
    p = put8(v, p, K_FLAGS_S[b] ?? (K_FLAGS_S[b] = chunk(`"${flagText(b)}"],"retransmissions":[`, 8)));
  } else p = put5(v, p, K_FLAGS_UDP);
  if (plain) return put11(v, p, K_ZERO_TAIL);
  const sv = streamValues;
  sv[0] = st0?.retransmissions ?? 0;
  sv[1] = st1?.retransmissions ?? 0;
  sv[2] = st0?.outOfOrder ?? 0;
  sv[3] = st1?.outOfOrder ?? 0;
  sv[4] = st0?.gaps ?? 0;
  sv[5] = st1?.gaps ?? 0;
  sv[6] = st0?.gapBytes ?? 0;
  sv[7] = st1?.gapBytes ?? 0;
  for (let i = 0; i < 4; i++) {
    if (i > 0) p = put2(v, p, K_STREAM[i]!);
    p = putPair(buf, v, p, sv[i * 2]!, sv[i * 2 + 1]!);
  }
  if (f.anomalies === null && f.expected === null) return put5(v, p, K_NONE);
  return put2(v, p, K_ANOMALIES);
}

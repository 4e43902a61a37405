/**
 * A finished flow as a plain record: what `imtap inspect --flows` prints and what storage will write. Built once per
 * flow when it ends (not on the per-packet path).
 */
import { C_BYTES, C_FLAGS, C_PACKETS, C_PAYLOAD, clientText, flowEnd, flowStart, FlowState, serverText, type Flow } from './flow.js';
import { isoTime, secondsBetween } from '../util/time.js';

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

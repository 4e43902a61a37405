/**
 * The `flows` row of a finished flow: endpoints, counters, reassembly figures and the analyzers' verdict. Taken
 * from `ingestCapture`'s inline writer so that `imtap ingest` and `imtap live` write flows the same way.
 */
import { C_BYTES, C_PACKETS, C_PAYLOAD, clientText, flowEnd, flowStart, serverText, type Flow } from '../flows/flow.js';
import type { Verdict } from '../decoders/im/dispatch.js';
import type { Row } from './writer.js';

/**
 * The row for `f` (valid only during the flow-end callback: the flow object is reused, the row is not). `verdict`
 * is `flowVerdict(f)`, or null when the analyzers did not run.
 */
export function flowRow(f: Flow, verdict: Verdict | null, captureId: number): Row {
  const v = verdict;
  const c = f.c;
  const st0 = f.streams[0];
  const st1 = f.streams[1];
  const [es, en] = flowEnd(f);
  return {
    ts_start: flowStart(f),
    capture_id: captureId,
    flow_id: f.id,
    ts_end: [es, en],
    transport: f.proto === 6 ? 'tcp' : 'udp',
    client_ip: clientText(f),
    client_port: f.cport,
    server_ip: serverText(f),
    server_port: f.sport,
    orientation: f.orientation,
    packets_c2s: c[C_PACKETS]!,
    packets_s2c: c[C_PACKETS + 1]!,
    bytes_c2s: c[C_BYTES]!,
    bytes_s2c: c[C_BYTES + 1]!,
    payload_bytes_c2s: c[C_PAYLOAD]!,
    payload_bytes_s2c: c[C_PAYLOAD + 1]!,
    end_reason: f.endReason,
    gaps: (st0?.gaps ?? 0) + (st1?.gaps ?? 0),
    gap_bytes: (st0?.gapBytes ?? 0) + (st1?.gapBytes ?? 0),
    retransmissions: (st0?.retransmissions ?? 0) + (st1?.retransmissions ?? 0),
    vlan: f.vlanOuter >= 0 ? f.vlanOuter : null,
    tunnel_depth: f.tunnelDepth,
    anomalies: f.anomalies ? JSON.stringify(Object.fromEntries(f.anomalies)) : null,
    protocol: v?.protocol ?? null,
    app: v?.app ?? null,
    app_kind: v?.kind ?? null,
    method: v?.method ?? null,
    confidence: v?.confidence ?? null,
    server_name: v?.serverName ?? null,
    encrypted: v === null ? null : v.encrypted,
  };
}

/** The `anomalies` rows of a finished flow's per-flow counters (one per code, at the flow's end). */
export function flowAnomalyRows(f: Flow, captureId: number): Row[] {
  if (!f.anomalies) return [];
  const at = flowEnd(f);
  return [...f.anomalies].map(([code, n]) => ({ ts: [at[0], at[1]], capture_id: captureId, flow_id: f.id, code, detail: `${n} time${n === 1 ? '' : 's'} in the flow` }));
}

/**
 * The IM pipeline over a capture, optionally with every TCP payload re-cut into segments of `segment` bytes (each
 * piece a packet of its own, same timestamp, sequence numbers advanced), to prove that the analyzers' rows do not
 * depend on how the sender's bytes were segmented.
 */
import { readCapture } from '../../src/decoders/capture/reader.js';
import { L4, newDecodedPacket } from '../../src/decoders/net/decoded.js';
import { PacketDecoder } from '../../src/decoders/net/decoder.js';
import { Dispatcher, imVerdict, type ImRow, type Verdict } from '../../src/decoders/im/dispatch.js';
import { defaultRegistry } from '../../src/decoders/im/protocols.js';
import type { Registry } from '../../src/decoders/im/registry.js';
import { FlowTable } from '../../src/flows/flow-table.js';
import type { Flow } from '../../src/flows/flow.js';

export interface PipelineResult {
  rows: Record<string, ImRow[]>;
  verdicts: (Verdict & { flow_id: number; server_port: number; client_port: number })[];
}

export async function imPipeline(file: string, segment = 0, extractDir: string | null = null, registry: Registry = defaultRegistry()): Promise<PipelineResult> {
  const rows: Record<string, ImRow[]> = {};
  const verdicts: PipelineResult['verdicts'] = [];
  const d = new Dispatcher(registry, {
    output: { row: (t, r) => (rows[t] ??= []).push(r) },
    onFlowEnd: (f: Flow) => {
      const v = imVerdict(f);
      if (v) verdicts.push({ ...v, flow_id: f.id, server_port: f.sport, client_port: f.cport });
    },
    extract: { dir: extractDir, prefix: 'c0' },
  });
  const table = new FlowTable(d);
  d.attach(table);
  const decoder = new PacketDecoder();
  const p = newDecodedPacket();
  await readCapture(file, (rec) => {
    decoder.decode(rec, p);
    if (p.fragmentHeld || (p.l4 !== L4.TCP && p.l4 !== L4.UDP)) return;
    if (segment <= 0 || p.l4 !== L4.TCP || p.payloadLength <= segment) {
      table.packet(p, rec);
      return;
    }
    const { payloadOffset, payloadLength, tcpSeq, tcpFlags } = p;
    for (let at = 0; at < payloadLength; at += segment) {
      p.payloadOffset = payloadOffset + at;
      p.payloadLength = Math.min(segment, payloadLength - at);
      p.payloadWireLength = p.payloadLength;
      p.tcpSeq = (tcpSeq + at) >>> 0;
      // SYN and FIN stay on the first and the last piece only (they occupy a sequence number where they are).
      const last = at + segment >= payloadLength;
      p.tcpFlags = at === 0 ? (last ? tcpFlags : tcpFlags & ~0x01) : last ? tcpFlags & ~0x02 : tcpFlags & ~0x03;
      table.packet(p, rec);
    }
  });
  table.finish();
  return { rows, verdicts };
}

/** Rows as sorted JSON lines (Uint8Array as hex), for comparing two runs regardless of emission order. */
export function canonicalRows(rows: Record<string, ImRow[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [t, list] of Object.entries(rows)) {
    out[t] = list.map((r) => JSON.stringify(r, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))).sort();
  }
  return out;
}

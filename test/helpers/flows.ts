/** Running the flow table over a capture and collecting each flow with its two reassembled byte streams. */
import { readCapture } from '../../src/decoders/capture/reader.js';
import { newDecodedPacket } from '../../src/decoders/net/decoded.js';
import { PacketDecoder } from '../../src/decoders/net/decoder.js';
import { FlowTable } from '../../src/flows/flow-table.js';
import { flowRecord, type FlowRecord } from '../../src/flows/flow-record.js';
import type { FlowLimits } from '../../src/flows/options.js';
import type { StreamSink } from '../../src/flows/tcp-stream.js';
import type { PacketRecord } from '../../src/decoders/capture/record.js';

export interface CollectedFlow extends FlowRecord {
  /** Reassembled bytes per direction [client→server, server→client]; gaps are left out. */
  data: [Buffer, Buffer];
  gapList: [number, number][][];
  ended: [boolean, boolean];
}

export class CollectingSink implements StreamSink {
  chunks: Buffer[] = [];
  gaps: [number, number][] = [];
  ended = false;
  /** Offsets must be contiguous: each chunk starts where the last one (or gap) ended. */
  expectOffset = 0;
  offsetErrors = 0;
  onData(data: Uint8Array, offset: number, length: number, streamOffset: number): number {
    if (streamOffset !== this.expectOffset) this.offsetErrors++;
    this.chunks.push(Buffer.from(data.subarray(offset, offset + length)));
    this.expectOffset = streamOffset + length;
    return length;
  }
  onGap(streamOffset: number, length: number): void {
    if (streamOffset !== this.expectOffset) this.offsetErrors++;
    this.gaps.push([streamOffset, length]);
    this.expectOffset = streamOffset + length;
  }
  onEnd(): void {
    this.ended = true;
  }
}

export function flowTableCollector(limits: Partial<FlowLimits> = {}) {
  const flows: CollectedFlow[] = [];
  const sinks = new Map<number, [CollectingSink, CollectingSink]>();
  const table = new FlowTable(
    {
      onFlowStart: (f) => void sinks.set(f.id, [new CollectingSink(), new CollectingSink()]),
      streamSink: (f, d) => sinks.get(f.id)![d],
      onFlowEnd: (f) => {
        const [a, b] = sinks.get(f.id)!;
        sinks.delete(f.id);
        if (a.offsetErrors + b.offsetErrors > 0) throw new Error(`flow ${f.id}: stream offsets not contiguous`);
        flows.push({ ...flowRecord(f), data: [Buffer.concat(a.chunks), Buffer.concat(b.chunks)], gapList: [a.gaps, b.gaps], ended: [a.ended, b.ended] });
      },
    },
    limits,
  );
  return { table, flows };
}

/** Decode a capture file and run it through a flow table, returning every flow when the input ends. */
export async function collectFlows(file: string, limits: Partial<FlowLimits> = {}): Promise<CollectedFlow[]> {
  const { table, flows } = flowTableCollector(limits);
  const dec = new PacketDecoder();
  const p = newDecodedPacket();
  await readCapture(file, (rec: PacketRecord) => {
    dec.decode(rec, p);
    table.packet(p, rec);
  });
  table.finish();
  return flows.sort((x, y) => x.id - y.id);
}

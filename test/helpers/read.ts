/** Reading a capture into plain rows (copying what the reader hands out as views). */
import { createHash } from 'node:crypto';
import { readCapture, type CaptureSummary, type ReadOptions } from '../../src/decoders/capture/reader.js';

export interface Row {
  number: number;
  sec: number;
  nsec: number;
  caplen: number;
  origlen: number;
  linktype: number;
  ifIndex: number;
  fileOffset: number;
  sha1: string;
}

export async function readRows(file: string, opts: ReadOptions = {}): Promise<{ rows: Row[]; summary: CaptureSummary }> {
  const rows: Row[] = [];
  const summary = await readCapture(
    file,
    (r) => {
      rows.push({
        number: r.number,
        sec: r.tsSec,
        nsec: r.tsNsec,
        caplen: r.caplen,
        origlen: r.origlen,
        linktype: r.linktype,
        ifIndex: r.ifIndex,
        fileOffset: r.fileOffset,
        sha1: createHash('sha1').update(r.data.subarray(r.offset, r.offset + r.caplen)).digest('hex'),
      });
    },
    opts,
  );
  return { rows, summary };
}

export function epoch9(r: { sec: number; nsec: number }): string {
  return `${r.sec}.${String(r.nsec).padStart(9, '0')}`;
}

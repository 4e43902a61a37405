/**
 * Reads a capture from any byte source, recognising the format by its magic bytes (never by the file name), and
 * hands every packet to a callback as a reused `PacketRecord` whose bytes are a view into the read buffer.
 * Memory is the read window (one chunk plus at most one record larger than a chunk), whatever the input's size.
 */
import { IssueLog } from './issues.js';
import { DEFAULT_READER_LIMITS, type FormatParser, type ReaderLimits } from './format.js';
import { newPacketRecord, type PacketRecord } from './record.js';
import { isPcapMagic, PcapParser } from './pcap.js';
import { isPcapngMagic, PcapngParser, type PcapngInterface } from './pcapng.js';
import { openSource, type ByteSource } from './source.js';
import { Window } from './window.js';

/** Raised when the input is not a capture at all (nothing could be read); damage inside a capture is an issue. */
export class NotACaptureError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
    this.name = 'NotACaptureError';
  }
}

export interface CaptureSummary {
  source: string;
  format: 'pcap' | 'pcapng';
  compression: 'gzip' | null;
  /** Byte order of the (first) file header: "little" or "big". */
  byteOrder: 'little' | 'big';
  /** Timestamp precision of the file: classic pcap's magic, or the finest if_tsresol of a pcapng file. */
  precision: 'microseconds' | 'nanoseconds' | 'other';
  /** pcap: version and snap length from the file header. */
  version: string;
  snaplen: number;
  /** Link type of every interface, in order (one for classic pcap). */
  linktypes: number[];
  interfaces: PcapngInterface[];
  sections: number;
  packets: number;
  /** Bytes of input read (after decompression). */
  inputBytes: number;
  issues: IssueLog;
}

export interface ReadOptions extends Partial<ReaderLimits> {
  /** Standard input, for the name "-" (tests pass their own stream). */
  stdin?: NodeJS.ReadableStream;
  /**
   * Awaited before each read of more input: a consumer whose output is backed up (a slow pipe) returns a promise,
   * and reading pauses until it resolves, so queued output cannot grow without bound.
   */
  beforeRead?: () => Promise<void> | null | undefined;
  /** Called after each read with the bytes of the file consumed so far and its size (null when unknown: a pipe). */
  onProgress?: (consumed: number, size: number | null) => void;
}

/**
 * Read one capture, calling `onPacket` for every packet. The record passed is reused: copy what you keep.
 * Throws `NotACaptureError` when the input is not pcap/pcapng, and an Error when it cannot be opened; damage inside a
 * capture never throws: it is in `summary.issues` with its offset.
 */
export async function readCapture(name: string, onPacket: (rec: PacketRecord) => void, opts: ReadOptions = {}): Promise<CaptureSummary> {
  const source = await openSource(name, opts.stdin as never);
  try {
    return await readSource(source, onPacket, opts);
  } finally {
    source.close();
  }
}

export async function readSource(source: ByteSource, onPacket: (rec: PacketRecord) => void, opts: ReadOptions = {}): Promise<CaptureSummary> {
  const limits: ReaderLimits = { ...DEFAULT_READER_LIMITS, ...definedOnly(opts) };
  const w = new Window(limits.chunkBytes);
  const issues = new IssueLog(limits.maxIssues);
  const rec = newPacketRecord();
  let eof = false;

  // Fill the window until `need` bytes are available from w.pos, or the input ends. Files are read synchronously.
  const beforeRead = opts.beforeRead;
  const onProgress = opts.onProgress;
  const fill = async (need: number): Promise<void> => {
    if (beforeRead) {
      const wait = beforeRead();
      if (wait) await wait;
    }
    w.makeRoom(need);
    while (w.end - w.pos < need) {
      const room = w.buf.length - w.end;
      const n = source.sync ? (source.read(w.buf, w.end, room) as number) : await source.read(w.buf, w.end, room);
      if (n === 0) {
        eof = true;
        return;
      }
      w.end += n;
    }
    onProgress?.(source.consumed, source.size);
  };

  await fill(4);
  const head = w.buf.subarray(w.pos, w.end);
  let parser: FormatParser;
  if (head.length >= 4 && isPcapngMagic(head)) parser = new PcapngParser(rec, onPacket, issues, limits);
  else if (head.length >= 4 && isPcapMagic(head)) parser = new PcapParser(rec, onPacket, issues, limits);
  else {
    if (source.error) throw new NotACaptureError(source.name, `${source.name}: cannot read: ${source.error.message}`);
    const shown = Array.from(head.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw new NotACaptureError(
      source.name,
      head.length === 0
        ? `${source.name}: empty input, not a pcap or pcapng capture`
        : `${source.name}: not a pcap or pcapng capture (starts with ${shown}${source.compression ? ' after gzip decompression' : ''})`,
    );
  }

  for (;;) {
    const need = parser.run(w, eof);
    if (need === 0) break;
    await fill(need);
    w.shrink();
  }
  const inputBytes = w.base + w.end;
  if (source.error) {
    const code = source.compression === 'gzip' ? 'gzip_error' : 'read_error';
    issues.add(code, inputBytes, `${source.name}: ${source.compression === 'gzip' ? 'gzip decompression' : 'reading'} failed after ${inputBytes} bytes: ${source.error.message}`);
  }

  const isPcap = parser instanceof PcapParser;
  const ng = parser instanceof PcapngParser ? parser : null;
  let precision: CaptureSummary['precision'] = 'microseconds';
  if (isPcap) precision = (parser as PcapParser).nanosecond ? 'nanoseconds' : 'microseconds';
  else if (ng && ng.interfaces.length > 0) {
    const finest = Math.max(...ng.interfaces.map((i) => i.unitsPerSec));
    precision = finest === 1e6 ? 'microseconds' : finest === 1e9 ? 'nanoseconds' : 'other';
  }
  const p = isPcap ? (parser as PcapParser) : null;
  return {
    source: source.name,
    format: parser.format,
    compression: source.compression,
    byteOrder: (p ? p.le : ng!.le) ? 'little' : 'big',
    precision,
    version: p ? `${p.versionMajor}.${p.versionMinor}` : '1.0',
    snaplen: p ? p.snaplen : Math.max(0, ...ng!.interfaces.map((i) => i.snaplen)),
    linktypes: parser.linktypes,
    interfaces: ng ? ng.interfaces : [],
    sections: ng ? ng.sections : 1,
    packets: rec.number,
    inputBytes,
    issues,
  };
}

function definedOnly(o: ReadOptions): Partial<ReaderLimits> {
  const out: Partial<ReaderLimits> = {};
  for (const k of Object.keys(DEFAULT_READER_LIMITS) as (keyof ReaderLimits)[]) {
    const v = o[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/** What every capture-format parser offers the driver in reader.ts. */
import type { Window } from './window.js';

export interface FormatParser {
  readonly format: 'pcap' | 'pcapng';
  /** Link types seen so far (for pcapng, every interface of every section, in order). */
  readonly linktypes: number[];
  /**
   * Deliver every complete record in the window and advance `w.pos` past it. Returns how many bytes, counted from
   * `w.pos`, it needs to go on, or 0 when it is finished (at the end of input, or after giving up on damage).
   * At `eof` it must finish: report an incomplete last record and return 0.
   */
  run(w: Window, eof: boolean): number;
}

/** Named limits of the capture readers, each with its documented default (docs/cli.md). */
export interface ReaderLimits {
  /**
   * Size of one read; the window holds this much plus at most one larger record. Default 1 MiB: small enough that
   * the bytes a read brings are still in the CPU cache when the packets are decoded (16 MiB cost about 10% more CPU
   * on the benchmark corpus), large enough that reads stay few.
   */
  chunkBytes: number;
  /** The largest packet accepted (captured length). Default 16 MiB; classic pcap also honours its snap length. */
  maxPacketBytes: number;
  /** The largest pcapng block accepted. Default 16 MiB (as libpcap). */
  maxBlockBytes: number;
  /** How far to scan for the next valid record after damage before giving up. Default 64 MiB. */
  maxResyncBytes: number;
  /** How many capture issues are kept in full (all are counted). Default 100. */
  maxIssues: number;
}

export const DEFAULT_READER_LIMITS: ReaderLimits = {
  chunkBytes: 1 << 20,
  maxPacketBytes: 16 << 20,
  maxBlockBytes: 16 << 20,
  maxResyncBytes: 64 << 20,
  maxIssues: 100,
};

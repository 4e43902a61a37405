/**
 * Problems found in the capture file itself (not in the packets it holds): a truncated record, a corrupt block, a
 * resynchronisation. Each names what is wrong and the byte offset in the (decompressed) input where it was found.
 */

export const CAPTURE_ISSUES = {
  // Damage: some bytes of the input could not be read as packets. The reader keeps every good record.
  capture_too_short: 'the input ends before the file header is complete',
  pcap_truncated_record: 'the input ends inside a pcap record: the last packet is incomplete and was dropped',
  pcap_record_too_large: 'a pcap record header announces more bytes than any packet may have: the header is corrupt',
  pcapng_truncated_block: 'the input ends inside a pcapng block: the last block is incomplete and was dropped',
  pcapng_bad_block_length: 'a pcapng block length is below 12, not a multiple of 4, or above the block size limit',
  pcapng_trailer_mismatch: "a pcapng block's trailing length differs from its leading length: the block is corrupt",
  pcapng_bad_byte_order: 'a pcapng section header has an unknown byte-order magic',
  pcapng_bad_packet_block: 'a pcapng packet block is inconsistent (captured length beyond the block, or too short)',
  pcapng_unknown_interface: 'a pcapng packet names an interface that the section did not describe: packet dropped',
  resync: 'bytes were skipped to find the next valid record after damage',
  resync_failed: 'no valid record was found after damage: the rest of the input was skipped',
  gzip_error: 'the gzip stream is corrupt or truncated: decompression stopped',
  read_error: 'reading the input failed',
  // Notices: the packet is kept, but the record is unusual.
  pcap_caplen_exceeds_snaplen: "a record's captured length exceeds the file's snap length (kept)",
  pcap_origlen_below_caplen: "a record's original length is below its captured length (kept)",
  pcap_bad_fraction: "a record's sub-second timestamp field is out of range (kept)",
  pcapng_bad_option: 'a pcapng option runs past its block: the remaining options were ignored',
  pcapng_packet_too_large: 'a pcapng packet is larger than the snap length of its interface (kept)',
} as const;

export type CaptureIssueCode = keyof typeof CAPTURE_ISSUES;

const NOTICES: ReadonlySet<CaptureIssueCode> = new Set([
  'pcap_caplen_exceeds_snaplen',
  'pcap_origlen_below_caplen',
  'pcap_bad_fraction',
  'pcapng_bad_option',
  'pcapng_packet_too_large',
]);

/** True for the issues that mean bytes of the input were lost (the "damaged" exit code); false for notices. */
export function isDamage(code: CaptureIssueCode): boolean {
  return !NOTICES.has(code);
}

export interface CaptureIssue {
  code: CaptureIssueCode;
  /** Byte offset in the input (after decompression) where the problem was found. */
  offset: number;
  /** One sentence naming the thing and the numbers involved. */
  message: string;
}

/** Keeps the first `limit` issues in full and counts every issue by code, so a badly broken file cannot fill memory. */
export class IssueLog {
  readonly list: CaptureIssue[] = [];
  readonly counts = new Map<CaptureIssueCode, number>();
  damaged = false;

  constructor(readonly limit = 100) {}

  add(code: CaptureIssueCode, offset: number, message: string): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
    if (isDamage(code)) this.damaged = true;
    if (this.list.length < this.limit) this.list.push({ code, offset, message });
  }

  countsObject(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

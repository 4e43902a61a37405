/**
 * Classic libpcap files: a 24-byte global header, then records of a 16-byte header and the captured bytes.
 * Reference: draft-ietf-opsawg-pcap (the tcpdump.org "pcap" file format) and libpcap's sf-pcap.c.
 * Covers magic 0xa1b2c3d4 (microseconds) and 0xa1b23c4d (nanoseconds) in both byte orders, version 2.4, any link
 * type (the FCS-length bits in the link-type field are masked off).
 *
 * Damage policy: a record whose captured length exceeds the packet size limit has a corrupt header. The parser then
 * resynchronises: it scans forward byte by byte for a position where a plausible record header is followed by
 * another plausible header (or by the exact end of the input), skipping at most `maxResyncBytes`. Every good record
 * before and after the damage is delivered. A record cut short by the end of the input is dropped and reported.
 */
import { u16be, u16le, u32be, u32le } from './bytes.js';
import type { PacketRecord } from './record.js';
import type { IssueLog } from './issues.js';
import type { Window } from './window.js';
import type { FormatParser, ReaderLimits } from './format.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;

/** Largest packet libpcap accepts for most link types (MAXIMUM_SNAPLEN). */
export const PCAP_MAX_SNAPLEN = 262144;


/** Whether the first four bytes are a classic pcap magic, in either byte order. */
export function isPcapMagic(b: Uint8Array): boolean {
  const m = u32le(b, 0);
  return m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS || u32be(b, 0) === PCAP_MAGIC_US || u32be(b, 0) === PCAP_MAGIC_NS;
}

export class PcapParser implements FormatParser {
  readonly format = 'pcap';
  le = true;
  nanosecond = false;
  versionMajor = 0;
  versionMinor = 0;
  snaplen = 0;
  linktype = 0;
  /** The largest captured length accepted as a real record. */
  private maxCaplen = PCAP_MAX_SNAPLEN;
  private started = false;
  private done = false;
  /** Resynchronisation: absolute offset where the damage was found, or -1 when reading records normally. */
  private damageAt = -1;
  private lastTs = -1;

  constructor(
    private readonly rec: PacketRecord,
    private readonly onPacket: (rec: PacketRecord) => void,
    private readonly issues: IssueLog,
    private readonly limits: ReaderLimits,
  ) {}

  get linktypes(): number[] {
    return this.started ? [this.linktype] : [];
  }

  run(w: Window, eof: boolean): number {
    if (this.done) return 0;
    if (!this.started) {
      if (w.available < 24) {
        if (!eof) return 24;
        this.issues.add('capture_too_short', w.offset, `pcap file header needs 24 bytes, the input has ${w.available}`);
        this.done = true;
        return 0;
      }
      this.readHeader(w);
    }
    return this.damageAt >= 0 ? this.resync(w, eof) : this.records(w, eof);
  }

  private readHeader(w: Window): void {
    const b = w.buf;
    const p = w.pos;
    const m = u32le(b, p);
    this.le = m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS;
    const magic = this.le ? m : u32be(b, p);
    this.nanosecond = magic === PCAP_MAGIC_NS;
    const u16 = this.le ? u16le : u16be;
    const u32 = this.le ? u32le : u32be;
    this.versionMajor = u16(b, p + 4);
    this.versionMinor = u16(b, p + 6);
    this.snaplen = u32(b, p + 16);
    // The upper bits of the link-type field carry the FCS length (LT_FCS_LENGTH); the link type is the low 28 bits.
    this.linktype = u32(b, p + 20) & 0x0fffffff;
    this.maxCaplen = Math.min(Math.max(this.snaplen, PCAP_MAX_SNAPLEN), this.limits.maxPacketBytes);
    this.rec.linktype = this.linktype;
    this.rec.ifIndex = 0;
    w.pos += 24;
    this.started = true;
  }

  /** The hot loop: walk records while whole ones are in the window. */
  private records(w: Window, eof: boolean): number {
    const rec = this.rec;
    const onPacket = this.onPacket;
    const le = this.le;
    const nsMul = this.nanosecond ? 1 : 1000;
    const fracMax = this.nanosecond ? 1e9 : 1e6;
    const maxCaplen = this.maxCaplen;
    const snaplen = this.snaplen;
    const b = w.buf;
    let pos = w.pos;
    const end = w.end;
    rec.data = b;
    for (;;) {
      if (end - pos < 16) break;
      const sec = le ? u32le(b, pos) : u32be(b, pos);
      const frac = le ? u32le(b, pos + 4) : u32be(b, pos + 4);
      const caplen = le ? u32le(b, pos + 8) : u32be(b, pos + 8);
      const origlen = le ? u32le(b, pos + 12) : u32be(b, pos + 12);
      if (caplen > maxCaplen) {
        w.pos = pos + 1; // the damaged header itself is not a candidate
        this.issues.add(
          'pcap_record_too_large',
          w.base + pos,
          `pcap record at offset ${w.base + pos} announces ${caplen} captured bytes, above the limit of ${maxCaplen}`,
        );
        this.damageAt = w.base + pos;
        return this.resync(w, eof);
      }
      if (end - pos < 16 + caplen) break;
      if (caplen > snaplen && snaplen > 0) {
        this.issues.add(
          'pcap_caplen_exceeds_snaplen',
          w.base + pos,
          `pcap record at offset ${w.base + pos} has ${caplen} captured bytes, above the snap length ${snaplen}`,
        );
      }
      if (origlen < caplen) {
        this.issues.add(
          'pcap_origlen_below_caplen',
          w.base + pos,
          `pcap record at offset ${w.base + pos} has original length ${origlen} below captured length ${caplen}`,
        );
      }
      if (frac >= fracMax) {
        this.issues.add(
          'pcap_bad_fraction',
          w.base + pos,
          `pcap record at offset ${w.base + pos} has sub-second field ${frac}, not below ${fracMax}`,
        );
      }
      rec.tsSec = sec;
      rec.tsNsec = frac * nsMul;
      rec.caplen = caplen;
      rec.origlen = origlen;
      rec.offset = pos + 16;
      rec.fileOffset = w.base + pos;
      rec.number++;
      this.lastTs = sec;
      pos += 16 + caplen;
      onPacket(rec);
    }
    w.pos = pos;
    const left = end - pos;
    if (!eof) {
      return left < 16 ? 16 : 16 + (le ? u32le(b, pos + 8) : u32be(b, pos + 8));
    }
    if (left > 0) {
      const what = left < 16 ? `${left} bytes of a 16-byte record header` : `${left - 16} of ${(le ? u32le(b, pos + 8) : u32be(b, pos + 8))} packet bytes`;
      this.issues.add('pcap_truncated_record', w.base + pos, `the input ends inside the pcap record at offset ${w.base + pos}: ${what}`);
      w.pos = end;
    }
    this.done = true;
    return 0;
  }

  /** Whether a 16-byte record header at `o` could be a real one. */
  private plausible(b: Uint8Array, o: number): boolean {
    const u32 = this.le ? u32le : u32be;
    const sec = u32(b, o);
    const frac = u32(b, o + 4);
    const caplen = u32(b, o + 8);
    const origlen = u32(b, o + 12);
    if (caplen > this.maxCaplen || origlen < caplen || origlen > 1 << 24) return false;
    if (frac >= (this.nanosecond ? 1e9 : 1e6)) return false;
    // Within a year of the last good record: captures merged over months still pass, random bytes rarely do.
    if (this.lastTs >= 0 && Math.abs(sec - this.lastTs) > 366 * 86400) return false;
    return true;
  }

  /**
   * Scan forward from the damage, one byte at a time, for a plausible header followed by another plausible header
   * or the exact end of input. Each candidate is checked in constant time, so the scan is linear in the bytes
   * skipped, and it holds at most one record plus a header in the window.
   */
  private resync(w: Window, eof: boolean): number {
    const u32 = this.le ? u32le : u32be;
    for (;;) {
      const b = w.buf;
      const cand = w.pos;
      const skipped = w.base + cand - this.damageAt;
      if (skipped > this.limits.maxResyncBytes) {
        this.issues.add('resync_failed', this.damageAt, `no valid pcap record within ${this.limits.maxResyncBytes} bytes after offset ${this.damageAt}: stopped`);
        this.done = true;
        return 0;
      }
      if (w.end - cand < 16) {
        if (!eof) return 16;
        return this.giveUp(w);
      }
      if (this.plausible(b, cand)) {
        const caplen = u32(b, cand + 8);
        const next = cand + 16 + caplen;
        if (w.end - cand < 16 + caplen + 16 && !eof) return 16 + caplen + 16;
        if ((eof && next === w.end) || (w.end - next >= 16 && this.plausible(b, next))) {
          this.issues.add('resync', w.base + cand, `resynchronised at offset ${w.base + cand} after skipping ${skipped} bytes of damage from offset ${this.damageAt}`);
          this.damageAt = -1;
          return this.records(w, eof);
        }
      }
      w.pos++;
    }
  }

  private giveUp(w: Window): number {
    this.issues.add('resync_failed', this.damageAt, `no valid pcap record after the damage at offset ${this.damageAt}: ${w.base + w.end - this.damageAt} bytes to the end were skipped`);
    w.pos = w.end;
    this.done = true;
    return 0;
  }
}

/**
 * pcapng files: a sequence of blocks (type, total length, body, total length again), grouped in sections that each
 * start with a Section Header Block carrying their own byte order.
 * Reference: draft-ietf-opsawg-pcapng (the pcapng file format), sections 4.1-4.6, and libpcap's sf-pcapng.c.
 * Covers several sections, several interfaces per section with their own link type, snap length, if_tsresol
 * (decimal and binary) and if_tsoffset; Enhanced, Simple and the obsolete Packet blocks. Every other block type
 * (name resolution, statistics, decryption secrets, custom, …) is skipped by its length.
 *
 * Damage policy: a block whose length is impossible, or whose trailing length differs from the leading one, is
 * corrupt; the parser then resynchronises on the next position that holds a block of a known type whose leading
 * and trailing lengths agree (a section header is recognised by its magic and byte-order mark), skipping at most
 * `maxResyncBytes`. A packet block that is internally inconsistent is skipped whole (its framing is intact).
 */
import { u32le, u32be, u16le, u16be } from './bytes.js';
import type { PacketRecord } from './record.js';
import type { IssueLog } from './issues.js';
import type { Window } from './window.js';
import type { FormatParser, ReaderLimits } from './format.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;
const BOM_SWAPPED = 0x4d3c2b1a;
const IDB = 1;
const PB = 2;
const SPB = 3;
const EPB = 6;
/** Block types a resynchronisation accepts as landmarks (registered types of the pcapng draft). */
const KNOWN_BLOCKS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xbad, 0x40000bad]);


export function isPcapngMagic(b: Uint8Array): boolean {
  return u32le(b, 0) === PCAPNG_SHB;
}

/** One Interface Description Block, with its timestamp unit resolved once. */
export interface PcapngInterface {
  linktype: number;
  snaplen: number;
  /** if_tsresol as written (default 6: microseconds); bit 7 set means a power of two. */
  tsresol: number;
  /** Timestamp units per second. */
  unitsPerSec: number;
  /** Nanoseconds per unit when units are a power of ten not finer than 1 ns; 0 selects the exact slow path. */
  nsPerUnit: number;
  /** if_tsoffset: seconds added to every timestamp. */
  tsOffset: number;
  name: string;
  section: number;
}

function makeInterface(linktype: number, snaplen: number, section: number): PcapngInterface {
  return { linktype, snaplen, tsresol: 6, unitsPerSec: 1e6, nsPerUnit: 1000, tsOffset: 0, name: '', section };
}

function setResolution(ifc: PcapngInterface, v: number): void {
  ifc.tsresol = v;
  if (v & 0x80) {
    ifc.unitsPerSec = 2 ** (v & 0x7f);
    ifc.nsPerUnit = 0;
  } else {
    ifc.unitsPerSec = 10 ** v;
    ifc.nsPerUnit = v <= 9 ? 10 ** (9 - v) : 0;
  }
}

export class PcapngParser implements FormatParser {
  readonly format = 'pcapng';
  readonly interfaces: PcapngInterface[] = [];
  /** Interfaces of the current section (pcapng interface ids are per section). */
  private current: PcapngInterface[] = [];
  sections = 0;
  le = true;
  private done = false;
  private damageAt = -1;

  constructor(
    private readonly rec: PacketRecord,
    private readonly onPacket: (rec: PacketRecord) => void,
    private readonly issues: IssueLog,
    private readonly limits: ReaderLimits,
  ) {}

  get linktypes(): number[] {
    return this.interfaces.map((i) => i.linktype);
  }

  run(w: Window, eof: boolean): number {
    if (this.done) return 0;
    return this.damageAt >= 0 ? this.resync(w, eof) : this.blocks(w, eof);
  }

  private damage(w: Window, at: number, code: 'pcapng_bad_block_length' | 'pcapng_trailer_mismatch' | 'pcapng_bad_byte_order', message: string, eof: boolean): number {
    this.issues.add(code, w.base + at, message);
    this.damageAt = w.base + at;
    w.pos = at + 1;
    return this.resync(w, eof);
  }

  private blocks(w: Window, eof: boolean): number {
    const b = w.buf;
    const end = w.end;
    const maxBlock = this.limits.maxBlockBytes;
    let pos = w.pos;
    let le = this.le;
    for (;;) {
      if (end - pos < 12) break;
      const type = le ? u32le(b, pos) : u32be(b, pos);
      let len: number;
      if (type === PCAPNG_SHB) {
        const bom = u32le(b, pos + 8);
        if (bom === BOM) le = true;
        else if (bom === BOM_SWAPPED) le = false;
        else {
          this.le = le;
          return this.damage(w, pos, 'pcapng_bad_byte_order', `pcapng section header at offset ${w.base + pos} has byte-order magic 0x${bom.toString(16)}, expected 0x1a2b3c4d`, eof);
        }
        this.le = le;
        len = le ? u32le(b, pos + 4) : u32be(b, pos + 4);
      } else {
        len = le ? u32le(b, pos + 4) : u32be(b, pos + 4);
      }
      if (len < 12 || (len & 3) !== 0 || len > maxBlock || (type === PCAPNG_SHB && len < 28)) {
        return this.damage(w, pos, 'pcapng_bad_block_length', `pcapng block of type ${type} at offset ${w.base + pos} has length ${len} (must be a multiple of 4 from 12 to ${maxBlock})`, eof);
      }
      if (end - pos < len) break;
      const trailer = le ? u32le(b, pos + len - 4) : u32be(b, pos + len - 4);
      if (trailer !== len) {
        return this.damage(w, pos, 'pcapng_trailer_mismatch', `pcapng block of type ${type} at offset ${w.base + pos} has leading length ${len} but trailing length ${trailer}`, eof);
      }
      if (type === EPB || type === SPB || type === PB) this.packet(w, b, pos, type, len, le);
      else if (type === IDB) this.interface(w, b, pos, len, le);
      else if (type === PCAPNG_SHB) {
        this.sections++;
        this.current = [];
      }
      pos += len;
    }
    w.pos = pos;
    const left = end - pos;
    if (!eof) {
      if (left < 12) return 12;
      const len = this.le ? u32le(b, pos + 4) : u32be(b, pos + 4);
      const type = u32le(b, pos);
      // For a section header the length is in the new section's byte order, known only from its BOM.
      if (type === PCAPNG_SHB) return Math.max(12, u32le(b, pos + 8) === BOM ? u32le(b, pos + 4) : u32be(b, pos + 4));
      return len;
    }
    if (left > 0) {
      this.issues.add('pcapng_truncated_block', w.base + pos, `the input ends inside the pcapng block at offset ${w.base + pos}: ${left} bytes of it are present`);
      w.pos = end;
    }
    this.done = true;
    return 0;
  }

  private interface(w: Window, b: Uint8Array, pos: number, len: number, le: boolean): void {
    if (len < 20) {
      this.issues.add('pcapng_bad_packet_block', w.base + pos, `pcapng interface block at offset ${w.base + pos} is ${len} bytes, below the minimum of 20`);
      return;
    }
    const ifc = makeInterface(le ? u16le(b, pos + 8) : u16be(b, pos + 8), le ? u32le(b, pos + 12) : u32be(b, pos + 12), this.sections);
    const u16 = le ? u16le : u16be;
    let o = pos + 16;
    const optEnd = pos + len - 4;
    while (o + 4 <= optEnd) {
      const code = u16(b, o);
      const olen = u16(b, o + 2);
      if (code === 0) break;
      if (o + 4 + olen > optEnd) {
        this.issues.add('pcapng_bad_option', w.base + o, `pcapng option ${code} at offset ${w.base + o} has length ${olen}, beyond its block's end at ${w.base + optEnd}`);
        break;
      }
      const v = o + 4;
      if (code === 9 && olen >= 1) setResolution(ifc, b[v]!);
      else if (code === 14 && olen >= 8) {
        const hi = le ? u32le(b, v + 4) | 0 : u32be(b, v) | 0;
        const lo = le ? u32le(b, v) : u32be(b, v + 4);
        ifc.tsOffset = hi * 4294967296 + lo;
      } else if (code === 2) ifc.name = Buffer.from(b.buffer, b.byteOffset + v, olen).toString('utf8').replace(/\0+$/, '');
      o = v + ((olen + 3) & ~3);
    }
    this.current.push(ifc);
    this.interfaces.push(ifc);
  }

  private packet(w: Window, b: Uint8Array, pos: number, type: number, len: number, le: boolean): void {
    let ifid: number;
    let hi = 0;
    let lo = 0;
    let caplen: number;
    let origlen: number;
    let dataAt: number;
    if (type === EPB || type === PB) {
      if (len < 32) {
        this.issues.add('pcapng_bad_packet_block', w.base + pos, `pcapng packet block at offset ${w.base + pos} is ${len} bytes, below the minimum of 32`);
        return;
      }
      ifid = type === EPB ? (le ? u32le(b, pos + 8) : u32be(b, pos + 8)) : le ? u16le(b, pos + 8) : u16be(b, pos + 8);
      hi = le ? u32le(b, pos + 12) : u32be(b, pos + 12);
      lo = le ? u32le(b, pos + 16) : u32be(b, pos + 16);
      caplen = le ? u32le(b, pos + 20) : u32be(b, pos + 20);
      origlen = le ? u32le(b, pos + 24) : u32be(b, pos + 24);
      dataAt = pos + 28;
      if (caplen > len - 32) {
        this.issues.add('pcapng_bad_packet_block', w.base + pos, `pcapng packet block at offset ${w.base + pos} announces ${caplen} captured bytes but holds at most ${len - 32}`);
        return;
      }
    } else {
      if (len < 16) {
        this.issues.add('pcapng_bad_packet_block', w.base + pos, `pcapng simple packet block at offset ${w.base + pos} is ${len} bytes, below the minimum of 16`);
        return;
      }
      ifid = 0;
      origlen = le ? u32le(b, pos + 8) : u32be(b, pos + 8);
      caplen = Math.min(origlen, len - 16);
      dataAt = pos + 12;
    }
    const ifc = this.current[ifid];
    if (ifc === undefined) {
      this.issues.add('pcapng_unknown_interface', w.base + pos, `pcapng packet at offset ${w.base + pos} names interface ${ifid}, but the section describes ${this.current.length}`);
      return;
    }
    if (type === SPB && ifc.snaplen > 0 && caplen > ifc.snaplen) caplen = ifc.snaplen;
    else if (ifc.snaplen > 0 && caplen > ifc.snaplen) {
      this.issues.add('pcapng_packet_too_large', w.base + pos, `pcapng packet at offset ${w.base + pos} has ${caplen} captured bytes, above its interface's snap length ${ifc.snaplen}`);
    }
    const rec = this.rec;
    if (type === SPB) {
      rec.tsSec = 0;
      rec.tsNsec = 0;
    } else if (ifc.nsPerUnit > 0) {
      // Exact 64-bit division without BigInt: split the dividend so every partial product stays below 2^53.
      const d = ifc.unitsPerSec;
      const hiQ = Math.floor(hi / d);
      const t = (hi - hiQ * d) * 65536 + (lo >>> 16);
      const tq = Math.floor(t / d);
      const u = (t - tq * d) * 65536 + (lo & 0xffff);
      const uq = Math.floor(u / d);
      rec.tsSec = hiQ * 4294967296 + tq * 65536 + uq + ifc.tsOffset;
      rec.tsNsec = (u - uq * d) * ifc.nsPerUnit;
    } else {
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      const d = BigInt(ifc.unitsPerSec);
      rec.tsSec = Number(v / d) + ifc.tsOffset;
      rec.tsNsec = Number(((v % d) * 1_000_000_000n) / d);
    }
    rec.data = b;
    rec.offset = dataAt;
    rec.caplen = caplen;
    rec.origlen = origlen;
    rec.linktype = ifc.linktype;
    rec.ifIndex = ifid;
    rec.fileOffset = w.base + pos;
    rec.number++;
    this.onPacket(rec);
  }

  /** Whether a block at `o` could start here (only its leading 12 bytes are looked at). */
  private candidateLength(b: Uint8Array, o: number): number {
    const type = this.le ? u32le(b, o) : u32be(b, o);
    let len: number;
    if (type === PCAPNG_SHB) {
      const bom = u32le(b, o + 8);
      if (bom === BOM) len = u32le(b, o + 4);
      else if (bom === BOM_SWAPPED) len = u32be(b, o + 4);
      else return -1;
      if (len < 28) return -1;
    } else {
      if (!KNOWN_BLOCKS.has(type)) return -1;
      len = this.le ? u32le(b, o + 4) : u32be(b, o + 4);
      if (type === EPB && this.current.length > 0) {
        const ifid = this.le ? u32le(b, o + 8) : u32be(b, o + 8);
        if (ifid >= this.current.length) return -1;
      }
    }
    if (len < 12 || (len & 3) !== 0 || len > this.limits.maxBlockBytes) return -1;
    return len;
  }

  /** Linear scan for the next block whose leading and trailing lengths agree; see the damage policy above. */
  private resync(w: Window, eof: boolean): number {
    for (;;) {
      const cand = w.pos;
      const skipped = w.base + cand - this.damageAt;
      if (skipped > this.limits.maxResyncBytes) {
        this.issues.add('resync_failed', this.damageAt, `no valid pcapng block within ${this.limits.maxResyncBytes} bytes after offset ${this.damageAt}: stopped`);
        this.done = true;
        return 0;
      }
      if (w.end - cand < 12) {
        if (!eof) return 12;
        this.issues.add('resync_failed', this.damageAt, `no valid pcapng block after the damage at offset ${this.damageAt}: ${w.base + w.end - this.damageAt} bytes to the end were skipped`);
        w.pos = w.end;
        this.done = true;
        return 0;
      }
      const len = this.candidateLength(w.buf, cand);
      if (len > 0) {
        if (w.end - cand < len && !eof) return len;
        if (w.end - cand >= len) {
          const b = w.buf;
          const type = u32le(b, cand);
          const le = type === PCAPNG_SHB ? u32le(b, cand + 8) === BOM : this.le;
          const trailer = le ? u32le(b, cand + len - 4) : u32be(b, cand + len - 4);
          if (trailer === len) {
            this.issues.add('resync', w.base + cand, `resynchronised at offset ${w.base + cand} after skipping ${skipped} bytes of damage from offset ${this.damageAt}`);
            this.damageAt = -1;
            return this.blocks(w, eof);
          }
        }
      }
      w.pos++;
    }
  }
}

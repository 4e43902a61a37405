/**
 * `--save-pcap DIR --rotate SIZE|TIME --keep N`: the packets captured live, also written to rotating classic pcap
 * files, each a complete capture with its own header (nanosecond timestamps, magic a1b23c4d, the link type and snap
 * length of the first packet written to it). Files are named `imtap-<sensor>-<UTC time>-<sequence>.pcap` from
 * characters that are safe in any file system and shell ([A-Za-z0-9._-]), inside DIR only; beyond `keep` files the
 * oldest of this naming are removed. Writes are synchronous and buffered (64 KiB): a packet is on disk at the
 * latest at the next flush of the database, at rotation and at stop.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PacketRecord } from '../decoders/capture/record.js';

export interface RotateOptions {
  dir: string;
  /** Start a new file once the current one holds this many bytes (null: no size limit). */
  maxBytes: number | null;
  /** Start a new file after this many seconds (null: no time limit). */
  maxSeconds: number | null;
  /** Keep at most this many files (null: keep all). */
  keep: number | null;
  /** Goes into the file names (made safe). */
  label: string;
  snaplen: number;
  /** Wall clock in ms (tests pass their own). */
  now?: () => number;
}

/** `name` reduced to characters safe in a file name; never empty, never "." or "..". */
export function safeNamePart(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.]+/, '_').slice(0, 64);
  return s === '' ? '_' : s;
}

const BUF = 64 << 10;

export class PcapRotator {
  private fd = -1;
  private file: string | null = null;
  private bytes = 0;
  private openedAt = 0;
  private seq = 0;
  private linktype = -1;
  private readonly buf = Buffer.allocUnsafe(BUF);
  private pos = 0;
  private readonly prefix: string;
  private readonly now: () => number;
  /** Files written by this rotator (oldest first), for tests and the log. */
  readonly written: string[] = [];

  constructor(private readonly o: RotateOptions) {
    this.prefix = `imtap-${safeNamePart(o.label)}-`;
    this.now = o.now ?? Date.now;
    fs.mkdirSync(o.dir, { recursive: true });
  }

  /** The file being written, or null before the first packet. */
  get current(): string | null {
    return this.file;
  }

  write(rec: PacketRecord): void {
    if (this.fd >= 0 && (rec.linktype !== this.linktype || this.due(16 + rec.caplen))) this.close();
    if (this.fd < 0) this.open(rec.linktype);
    if (this.pos + 16 + rec.caplen > BUF) this.flush();
    if (16 + rec.caplen > BUF) {
      const head = Buffer.alloc(16);
      this.recordHeader(head, 0, rec);
      fs.writeSync(this.fd, head);
      fs.writeSync(this.fd, rec.data, rec.offset, rec.caplen);
    } else {
      this.recordHeader(this.buf, this.pos, rec);
      this.buf.set(rec.data.subarray(rec.offset, rec.offset + rec.caplen), this.pos + 16);
      this.pos += 16 + rec.caplen;
    }
    this.bytes += 16 + rec.caplen;
  }

  /** Time-based rotation also when no packet comes: called by the live loop's timer. */
  tick(): void {
    if (this.fd >= 0 && this.o.maxSeconds !== null && this.now() - this.openedAt >= this.o.maxSeconds * 1000) this.close();
  }

  /** SIGHUP: the current file is closed (a new one starts with the next packet), e.g. after logrotate moved it. */
  reopen(): string | null {
    const was = this.file;
    this.close();
    return was;
  }

  flush(): void {
    if (this.fd < 0 || this.pos === 0) return;
    fs.writeSync(this.fd, this.buf, 0, this.pos);
    this.pos = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = -1;
    this.file = null;
  }

  private due(more: number): boolean {
    if (this.o.maxBytes !== null && this.bytes + more > this.o.maxBytes && this.bytes > 24) return true;
    return this.o.maxSeconds !== null && this.now() - this.openedAt >= this.o.maxSeconds * 1000;
  }

  private open(linktype: number): void {
    const t = new Date(this.now()).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    let name: string;
    do name = `${this.prefix}${t}-${String(++this.seq).padStart(4, '0')}.pcap`;
    while (fs.existsSync(path.join(this.o.dir, name)));
    const file = path.join(this.o.dir, name);
    // O_EXCL: never follow or overwrite something planted under the name.
    this.fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o640);
    this.file = file;
    this.linktype = linktype;
    this.openedAt = this.now();
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b23c4d, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(this.o.snaplen, 16);
    h.writeUInt32LE(linktype, 20);
    fs.writeSync(this.fd, h);
    this.bytes = 24;
    this.written.push(file);
    this.prune();
  }

  private recordHeader(b: Buffer, at: number, rec: PacketRecord): void {
    b.writeUInt32LE(rec.tsSec >>> 0, at);
    b.writeUInt32LE(rec.tsNsec >>> 0, at + 4);
    b.writeUInt32LE(rec.caplen, at + 8);
    b.writeUInt32LE(rec.origlen, at + 12);
  }

  /** Removes the oldest files of this naming beyond `keep` (the one being written counts). */
  private prune(): void {
    if (this.o.keep === null) return;
    const mine = fs
      .readdirSync(this.o.dir)
      .filter((n) => n.startsWith(this.prefix) && n.endsWith('.pcap'))
      .sort();
    for (const n of mine.slice(0, Math.max(0, mine.length - this.o.keep))) {
      try {
        fs.unlinkSync(path.join(this.o.dir, n));
      } catch {
        /* already gone */
      }
    }
  }
}

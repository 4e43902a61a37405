/**
 * Byte sources for the capture readers: a file read synchronously in large chunks (the fast path: no promise per
 * chunk, no copy beyond the kernel's), and any Node stream (gzip, standard input, a tcpdump pipe) read
 * asynchronously. Both fill the caller's buffer; the reader decides what stays.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';

export interface ByteSource {
  /** What the user named: a path, or "-" for standard input. */
  readonly name: string;
  /** "gzip" when the bytes are decompressed on the fly. */
  readonly compression: 'gzip' | null;
  /** Synchronous sources are read without awaiting (files); others return promises. */
  readonly sync: boolean;
  /** Read up to `length` bytes into `buf` at `offset`; 0 means end of input. */
  read(buf: Uint8Array, offset: number, length: number): number | Promise<number>;
  /** Set when the source ended because of an error (e.g. a truncated gzip stream) rather than a clean end. */
  readonly error: Error | null;
  /** Bytes of the underlying file taken so far (compressed bytes for gzip), for progress; `size` is its total, or null. */
  readonly consumed: number;
  readonly size: number | null;
  close(): void;
}

/** A regular, uncompressed file read with readSync. */
export class FileSource implements ByteSource {
  readonly compression = null;
  readonly sync = true;
  readonly error = null;
  consumed = 0;
  private fd: number;
  /** Bytes already read by the sniffing step and still to be served first. */
  private head: Uint8Array | null;

  constructor(
    readonly name: string,
    fd: number,
    head: Uint8Array | null,
    readonly size: number | null = null,
  ) {
    this.fd = fd;
    this.head = head && head.length > 0 ? head : null;
  }

  read(buf: Uint8Array, offset: number, length: number): number {
    if (this.head) {
      const n = Math.min(length, this.head.length);
      buf.set(this.head.subarray(0, n), offset);
      this.head = n === this.head.length ? null : this.head.subarray(n);
      this.consumed += n;
      return n;
    }
    const n = fs.readSync(this.fd, buf, offset, length, null);
    this.consumed += n;
    return n;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Any readable stream of bytes, consumed through its async iterator. */
export class StreamSource implements ByteSource {
  readonly sync = false;
  error: Error | null = null;
  private it: AsyncIterator<Buffer>;
  private get rawCounted(): boolean {
    return this.size !== null;
  }
  private pending: Uint8Array | null = null;
  private done = false;

  consumed = 0;

  constructor(
    readonly name: string,
    readonly compression: 'gzip' | null,
    private stream: Readable,
    /** The file under a gzip stream, counted for progress; null for pipes. */
    raw: Readable | null = null,
    readonly size: number | null = null,
  ) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    if (raw) raw.on('data', (c: Buffer) => void (this.consumed += c.length));
  }

  async read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    while (!this.pending) {
      if (this.done) return 0;
      try {
        const r = await this.it.next();
        if (r.done) {
          this.done = true;
          return 0;
        }
        if (r.value.length > 0) this.pending = r.value;
        if (!this.rawCounted) this.consumed += r.value.length;
      } catch (e) {
        this.error = e instanceof Error ? e : new Error(String(e));
        this.done = true;
        return 0;
      }
    }
    const p = this.pending;
    const n = Math.min(length, p.length);
    buf.set(n === p.length ? p : p.subarray(0, n), offset);
    this.pending = n === p.length ? null : p.subarray(n);
    return n;
  }

  close(): void {
    this.done = true;
    this.stream.destroy();
  }
}

const GZIP_CHUNK = 1 << 20;

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * Open a capture by name: a path, or "-" for standard input. Gzip is recognised by its magic bytes (not by the
 * extension) and decompressed as a stream. Throws an Error with a user-facing message when the file cannot be opened.
 */
export async function openSource(name: string, stdin: Readable = process.stdin): Promise<ByteSource> {
  if (name === '-') return openStream('-', stdin);
  let fd: number;
  try {
    fd = fs.openSync(name, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new Error(`${name}: cannot open: ${why}`);
  }
  const st = fs.fstatSync(fd);
  if (st.isDirectory()) {
    fs.closeSync(fd);
    throw new Error(`${name}: is a directory, not a capture file`);
  }
  const head = new Uint8Array(2);
  const n = fs.readSync(fd, head, 0, 2, null);
  if (n === 2 && isGzip(head)) {
    fs.closeSync(fd);
    const raw = fs.createReadStream(name, { highWaterMark: GZIP_CHUNK });
    return new StreamSource(name, 'gzip', raw.pipe(zlib.createGunzip({ chunkSize: GZIP_CHUNK })), raw, st.size);
  }
  // A FIFO or character device (e.g. /dev/stdin, a named pipe from tcpdump) is read as a stream: readSync on it
  // would block the event loop and fail with EAGAIN on non-blocking descriptors.
  if (!st.isFile()) {
    fs.closeSync(fd);
    return openStream(name, fs.createReadStream(name, { highWaterMark: GZIP_CHUNK }), head.subarray(0, n));
  }
  return new FileSource(name, fd, head.subarray(0, n), st.size);
}

/** Wrap a stream, sniffing its first bytes for gzip. `head` holds bytes already taken from it. */
async function openStream(name: string, stream: Readable, head: Uint8Array = new Uint8Array(0)): Promise<ByteSource> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first: Buffer = Buffer.from(head);
  while (first.length < 2) {
    const r = await it.next();
    if (r.done) break;
    first = Buffer.concat([first, r.value]);
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const joined = Readable.from(rest(), { objectMode: false });
  if (isGzip(first)) return new StreamSource(name, 'gzip', joined.pipe(zlib.createGunzip({ chunkSize: GZIP_CHUNK })));
  return new StreamSource(name, null, joined);
}

/**
 * Writers for hand-built captures: classic pcap in either byte order and precision, and pcapng with any number of
 * sections (each with its own byte order), interfaces (link type, snap length, if_tsresol, if_tsoffset) and
 * Enhanced, Simple, obsolete Packet and unknown blocks. Used to make the cases real files do not cover.
 */

export interface Packet {
  sec: number;
  frac: number; // in the file's units (µs or ns for pcap)
  data: Uint8Array;
  origlen?: number;
}

function w32(b: Buffer, o: number, v: number, le: boolean) {
  if (le) b.writeUInt32LE(v >>> 0, o);
  else b.writeUInt32BE(v >>> 0, o);
}
function w16(b: Buffer, o: number, v: number, le: boolean) {
  if (le) b.writeUInt16LE(v, o);
  else b.writeUInt16BE(v, o);
}

export function pcapFile(opts: { le?: boolean; nano?: boolean; linktype?: number; snaplen?: number }, packets: Packet[]): Buffer {
  const le = opts.le ?? true;
  const h = Buffer.alloc(24);
  w32(h, 0, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  w16(h, 4, 2, le);
  w16(h, 6, 4, le);
  w32(h, 16, opts.snaplen ?? 65535, le);
  w32(h, 20, opts.linktype ?? 1, le);
  const parts: Buffer[] = [h];
  for (const p of packets) {
    const r = Buffer.alloc(16);
    w32(r, 0, p.sec, le);
    w32(r, 4, p.frac, le);
    w32(r, 8, p.data.length, le);
    w32(r, 12, p.origlen ?? p.data.length, le);
    parts.push(r, Buffer.from(p.data));
  }
  return Buffer.concat(parts);
}

/** Rewrite a little-endian classic pcap file as big-endian (headers only; packet bytes are untouched). */
export function pcapToBigEndian(le: Buffer): Buffer {
  const b = Buffer.from(le);
  if (b.readUInt32LE(0) !== 0xa1b2c3d4 && b.readUInt32LE(0) !== 0xa1b23c4d) throw new Error('not a little-endian pcap');
  b.writeUInt32BE(le.readUInt32LE(0), 0);
  b.writeUInt16BE(le.readUInt16LE(4), 4);
  b.writeUInt16BE(le.readUInt16LE(6), 6);
  for (const o of [8, 12, 16, 20]) b.writeUInt32BE(le.readUInt32LE(o), o);
  let pos = 24;
  while (pos + 16 <= b.length) {
    const caplen = le.readUInt32LE(pos + 8);
    for (let i = 0; i < 16; i += 4) b.writeUInt32BE(le.readUInt32LE(pos + i), pos + i);
    pos += 16 + caplen;
  }
  return b;
}

// ── pcapng ──

function pad4(n: number) {
  return (n + 3) & ~3;
}

function block(type: number, body: Buffer, le: boolean): Buffer {
  const len = 12 + pad4(body.length);
  const b = Buffer.alloc(len);
  w32(b, 0, type, le);
  w32(b, 4, len, le);
  body.copy(b, 8);
  w32(b, len - 4, len, le);
  return b;
}

function options(opts: { code: number; value: Buffer }[], le: boolean): Buffer {
  if (opts.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const o of opts) {
    const h = Buffer.alloc(4);
    w16(h, 0, o.code, le);
    w16(h, 2, o.value.length, le);
    parts.push(h, o.value, Buffer.alloc(pad4(o.value.length) - o.value.length));
  }
  parts.push(Buffer.alloc(4)); // opt_endofopt
  return Buffer.concat(parts);
}

export interface NgInterface {
  linktype: number;
  snaplen?: number;
  tsresol?: number; // raw if_tsresol byte
  tsoffset?: number; // seconds
  name?: string;
}

export class PcapngBuilder {
  private parts: Buffer[] = [];
  private le = true;

  section(le = true): this {
    this.le = le;
    const body = Buffer.alloc(16);
    w32(body, 0, 0x1a2b3c4d, le);
    w16(body, 4, 1, le);
    w16(body, 6, 0, le);
    body.writeInt32LE(-1, 8); // section length unknown (-1 in both byte orders)
    body.writeInt32LE(-1, 12);
    this.parts.push(block(0x0a0d0d0a, body, le));
    return this;
  }

  iface(i: NgInterface): this {
    const le = this.le;
    const head = Buffer.alloc(8);
    w16(head, 0, i.linktype, le);
    w32(head, 4, i.snaplen ?? 262144, le);
    const opts: { code: number; value: Buffer }[] = [];
    if (i.name) opts.push({ code: 2, value: Buffer.from(i.name) });
    if (i.tsresol !== undefined) opts.push({ code: 9, value: Buffer.from([i.tsresol]) });
    if (i.tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      if (le) v.writeBigInt64LE(BigInt(i.tsoffset));
      else v.writeBigInt64BE(BigInt(i.tsoffset));
      opts.push({ code: 14, value: v });
    }
    this.parts.push(block(1, Buffer.concat([head, options(opts, le)]), le));
    return this;
  }

  /** An Enhanced Packet Block; `ts` in the interface's units, as a bigint. */
  epb(ifid: number, ts: bigint, data: Uint8Array, origlen = data.length): this {
    const le = this.le;
    const head = Buffer.alloc(20);
    w32(head, 0, ifid, le);
    w32(head, 4, Number(ts >> 32n), le);
    w32(head, 8, Number(ts & 0xffffffffn), le);
    w32(head, 12, data.length, le);
    w32(head, 16, origlen, le);
    this.parts.push(block(6, Buffer.concat([head, Buffer.from(data), Buffer.alloc(pad4(data.length) - data.length)]), le));
    return this;
  }

  /** A Simple Packet Block (interface 0, no timestamp). */
  spb(data: Uint8Array, origlen = data.length): this {
    const head = Buffer.alloc(4);
    w32(head, 0, origlen, this.le);
    this.parts.push(block(3, Buffer.concat([head, Buffer.from(data), Buffer.alloc(pad4(data.length) - data.length)]), this.le));
    return this;
  }

  /** The obsolete Packet Block (16-bit interface id and drops count). */
  pb(ifid: number, ts: bigint, data: Uint8Array): this {
    const le = this.le;
    const head = Buffer.alloc(20);
    w16(head, 0, ifid, le);
    w16(head, 2, 0, le);
    w32(head, 4, Number(ts >> 32n), le);
    w32(head, 8, Number(ts & 0xffffffffn), le);
    w32(head, 12, data.length, le);
    w32(head, 16, data.length, le);
    this.parts.push(block(2, Buffer.concat([head, Buffer.from(data), Buffer.alloc(pad4(data.length) - data.length)]), le));
    return this;
  }

  /** Any other block (skipped by readers that do not know it). */
  raw(type: number, body: Buffer): this {
    this.parts.push(block(type, body, this.le));
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

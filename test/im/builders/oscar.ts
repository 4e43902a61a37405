/**
 * Byte-exact OSCAR, TOC and OFT2 streams for tests, built from the protocol documentation (AOL's OSCAR docs, Shutko's
 * ICQ docs, Pidgin's oft.c for the OFT2 header layout, the TOC1 PROTOCOL document). Each conversation is a list of
 * [direction, bytes] parts for `feed()` or `conversationPcap()`; FLAP sequence numbers count per direction.
 */
import type { Dir } from '../../../src/decoders/im/types.js';

export const u16b = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
export const u32b = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
export const tlv = (type: number, value: Uint8Array | string): Buffer => {
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value);
  return Buffer.concat([u16b(type), u16b(v.length), v]);
};
export const flap = (channel: number, seq: number, payload: Uint8Array): Buffer => Buffer.concat([Buffer.from([0x2a, channel]), u16b(seq), u16b(payload.length), payload]);
export const snac = (family: number, subtype: number, data: Uint8Array, flags = 0, reqId = 1): Buffer => Buffer.concat([u16b(family), u16b(subtype), u16b(flags), u32b(reqId), data]);
export const name8 = (n: string): Buffer => Buffer.concat([Buffer.from([Buffer.byteLength(n)]), Buffer.from(n)]);

/** A user info block: name, warning level 0, TLVs (user class, ICQ status when given). */
export function userInfo(name: string, opts: { userClass?: number; icqStatus?: number } = {}): Buffer {
  const tlvs: Buffer[] = [];
  if (opts.userClass !== undefined) tlvs.push(tlv(0x0001, u16b(opts.userClass)));
  if (opts.icqStatus !== undefined) tlvs.push(tlv(0x0006, Buffer.concat([u16b(0), u16b(opts.icqStatus)])));
  return Buffer.concat([name8(name), u16b(0), u16b(tlvs.length), ...tlvs]);
}

export type Charset = 'ascii' | 'ucs2' | 'latin1';
const CS: Record<Charset, number> = { ascii: 0, ucs2: 2, latin1: 3 };

export function encodeText(text: string, cs: Charset): Buffer {
  if (cs === 'ucs2') return Buffer.from(text, 'utf16le').swap16();
  return Buffer.from(text, cs === 'latin1' ? 'latin1' : 'utf8');
}

/** ICBM channel-1 message data (TLV 2): capabilities fragment, text fragment. */
export function messageData(text: string, cs: Charset): Buffer {
  const body = Buffer.concat([u16b(CS[cs]), u16b(0), encodeText(text, cs)]);
  return tlv(0x0002, Buffer.concat([Buffer.from([5, 1]), u16b(1), Buffer.from([1]), Buffer.from([1, 1]), u16b(body.length), body]));
}

const cookie8 = (c: string): Buffer => Buffer.from(c.padEnd(8, '\0').slice(0, 8), 'latin1');

/** Builds one connection's frames with per-direction FLAP sequence numbers. */
export class Oscar {
  readonly parts: [Dir, Buffer][] = [];
  private readonly seq: [number, number];
  constructor(seq0: [number, number] = [100, 5000]) {
    this.seq = [...seq0];
  }
  frame(dir: Dir, channel: number, payload: Uint8Array): this {
    this.parts.push([dir, flap(channel, this.seq[dir]++ & 0xffff, payload)]);
    return this;
  }
  snac(dir: Dir, family: number, subtype: number, data: Uint8Array, flags = 0): this {
    return this.frame(dir, 2, snac(family, subtype, data, flags));
  }
  raw(dir: Dir, bytes: Uint8Array | string): this {
    this.parts.push([dir, Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes)]);
    return this;
  }
  /** Both sides' sign-on frames of a BOS connection (client with the authorization cookie), and the self info. */
  bosLogin(own: string): this {
    this.frame(1, 1, u32b(1));
    this.frame(0, 1, Buffer.concat([u32b(1), tlv(0x0006, Buffer.alloc(256, 0x5a)), tlv(0x0003, 'test client')]));
    return this.snac(1, 1, 0x000f, userInfo(own, { userClass: 0x0010 }));
  }
  /** The MD5 login on the authorizer: key request, key, login request (hash), reply with cookie or error. */
  md5Login(own: string, error?: number): this {
    this.frame(1, 1, u32b(1));
    this.frame(0, 1, u32b(1));
    this.snac(0, 0x17, 0x06, tlv(0x0001, own));
    this.snac(1, 0x17, 0x07, Buffer.concat([u16b(10), Buffer.from('0123456789')]));
    this.snac(0, 0x17, 0x02, Buffer.concat([tlv(0x0001, own), tlv(0x0025, Buffer.alloc(16, 0xaa)), tlv(0x0003, 'test client')]));
    const reply = error !== undefined ? [tlv(0x0001, own), tlv(0x0008, u16b(error))] : [tlv(0x0001, own), tlv(0x0005, '64.12.1.1:5190'), tlv(0x0006, Buffer.alloc(256, 0x33))];
    return this.snac(1, 0x17, 0x03, Buffer.concat(reply));
  }
  /** Old-style channel-1 login with a roasted password, answered on channel 4. */
  roastedLogin(own: string): this {
    this.frame(1, 1, u32b(1));
    this.frame(0, 1, Buffer.concat([u32b(1), tlv(0x0001, own), tlv(0x0002, Buffer.from([0xf3, 0x26, 0x81, 0xc4]))]));
    return this.frame(1, 4, Buffer.concat([tlv(0x0001, own), tlv(0x0005, '64.12.1.1:5190'), tlv(0x0006, Buffer.alloc(256, 0x44))]));
  }
  send(to: string, text: string, cs: Charset = 'ascii', cookie = 'c0ffee01', extra: Buffer[] = []): this {
    return this.snac(0, 4, 6, Buffer.concat([cookie8(cookie), u16b(1), name8(to), messageData(text, cs), ...extra]));
  }
  receive(from: string, text: string, cs: Charset = 'ascii', cookie = 'beef0001', extra: Buffer[] = []): this {
    return this.snac(1, 4, 7, Buffer.concat([cookie8(cookie), u16b(1), userInfo(from, { userClass: 0x0010 }), messageData(text, cs), ...extra]));
  }
  /** ICQ channel-4 message (from the server): UIN LE, type, flags, length LE, NUL-terminated text. */
  receiveIcq(from: string, text: string, type = 1): this {
    const t = Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from([0])]);
    const uin = Buffer.alloc(4);
    uin.writeUInt32LE(Number(from));
    const data = Buffer.concat([uin, Buffer.from([type, 0, t.length & 0xff, t.length >> 8]), t]);
    return this.snac(1, 4, 7, Buffer.concat([cookie8('icq4'), u16b(4), userInfo(from), tlv(0x0005, data)]));
  }
  typing(dir: Dir, who: string, type: number): this {
    return this.snac(dir, 4, 0x14, Buffer.concat([Buffer.alloc(8), u16b(1), name8(who), u16b(type)]));
  }
  arrived(who: string, opts: { userClass?: number; icqStatus?: number } = {}): this {
    return this.snac(1, 3, 0x0b, userInfo(who, opts));
  }
  departed(who: string): this {
    return this.snac(1, 3, 0x0c, userInfo(who));
  }
  /** SSI list reply in one or more SNACs: items [name, gid, iid, type, tlvs]. */
  ssi(chunks: [string, number, number, number, Buffer?][][]): this {
    chunks.forEach((items, i) => {
      const last = i === chunks.length - 1;
      const body = items.map(([n, gid, iid, type, tl]) => Buffer.concat([u16b(Buffer.byteLength(n)), Buffer.from(n), u16b(gid), u16b(iid), u16b(type), u16b(tl?.length ?? 0), tl ?? Buffer.alloc(0)]));
      this.snac(1, 0x13, 6, Buffer.concat([Buffer.from([0]), u16b(items.length), ...body, ...(last ? [u32b(1_700_000_000)] : [])]), last ? 0 : 1);
    });
    return this;
  }
  /** A rendezvous file-transfer proposal (ICBM channel 2) sent by the client to `to`. */
  fileOffer(dir: Dir, peer: string, o: { cookie: string; ip?: string; verifiedIp?: string; port?: number; filename?: string; size?: number; files?: number; proxy?: string; reqNum?: number }): this {
    const ip = (s: string) => Buffer.from(s.split('.').map(Number));
    const tl: Buffer[] = [tlv(0x000a, u16b(o.reqNum ?? 1))];
    if (o.proxy !== undefined) tl.push(tlv(0x0002, ip(o.proxy)), tlv(0x0010, ''));
    if (o.ip !== undefined) tl.push(tlv(0x0003, ip(o.ip)));
    if (o.verifiedIp !== undefined) tl.push(tlv(0x0004, ip(o.verifiedIp)));
    if (o.port !== undefined) tl.push(tlv(0x0005, u16b(o.port)), tlv(0x0017, u16b(~o.port & 0xffff)));
    if (o.filename !== undefined) tl.push(tlv(0x2711, Buffer.concat([u16b((o.files ?? 1) > 1 ? 2 : 1), u16b(o.files ?? 1), u32b(o.size ?? 0), Buffer.from(o.filename), Buffer.from([0])])), tlv(0x2712, 'us-ascii'));
    const cap = Buffer.from('094613434c7f11d18222444553540000', 'hex');
    const rv = Buffer.concat([u16b(0), cookie8(o.cookie), cap, ...tl]);
    const who = dir === 0 ? name8(peer) : userInfo(peer);
    return this.snac(dir, 4, dir === 0 ? 6 : 7, Buffer.concat([cookie8(o.cookie), u16b(2), who, tlv(0x0005, rv)]));
  }
}

/** An OFT2 header (256 bytes, or longer for a long name). */
export function oftHeader(type: number, o: { cookie: string; name: string; size: number; files?: number; received?: number; charset?: number }): Buffer {
  const nameBytes = o.charset === 2 ? Buffer.from(o.name, 'utf16le').swap16() : Buffer.from(o.name, 'latin1');
  const hl = Math.max(256, 192 + nameBytes.length + 2);
  const h = Buffer.alloc(hl);
  h.write('OFT2', 0, 'latin1');
  h.writeUInt16BE(hl, 4);
  h.writeUInt16BE(type, 6);
  cookie8(o.cookie).copy(h, 8);
  h.writeUInt16BE(o.files ?? 1, 20);
  h.writeUInt16BE(o.files ?? 1, 22);
  h.writeUInt16BE(1, 24);
  h.writeUInt16BE(1, 26);
  return fixHeader(h, o, nameBytes);
}

/** Offsets from Pidgin's oft.c: totsize 28, size 32, modtime 36, checksum 40, … nrecvd 60, idstring 68, name 192. */
function fixHeader(h: Buffer, o: { size: number; received?: number; charset?: number }, nameBytes: Buffer): Buffer {
  h.writeUInt32BE(o.size, 28);
  h.writeUInt32BE(o.size, 32);
  h.writeUInt32BE(1_700_000_000, 36);
  h.writeUInt32BE(0xffff0000, 40);
  h.writeUInt32BE(o.received ?? 0, 60);
  h.write('Cool FileXfer', 68, 'latin1');
  h[100] = 0x20;
  h[101] = 0x1c;
  h[102] = 0x11;
  h.writeUInt16BE(o.charset ?? 0, 188);
  nameBytes.copy(h, 192);
  return h;
}

/** A whole direct OFT2 transfer: prompt, ack, the file, done (sender is the connection's `senderDir`). */
export function oftTransfer(file: Buffer, name: string, cookie = 'c0ffee99', senderDir: Dir = 1): [Dir, Buffer][] {
  const recv = (1 - senderDir) as Dir;
  const h = { cookie, name, size: file.length };
  return [
    [senderDir, oftHeader(0x0101, h)],
    [recv, oftHeader(0x0202, h)],
    [senderDir, file],
    [recv, oftHeader(0x0204, h)],
  ];
}

/** A TOC conversation: FLAPON, sign-on frames, then text commands/messages as FLAP data frames. */
export class Toc extends Oscar {
  signon(user: string): this {
    this.raw(0, 'FLAPON\r\n\r\n');
    this.frame(1, 1, u32b(1));
    this.frame(0, 1, Buffer.concat([u32b(1), u16b(1), u16b(user.length), Buffer.from(user)]));
    this.cmd(`toc_signon login.oscar.aol.com 5190 ${user} 0x2408105c23001130 english "TIC:test"`);
    return this.line('SIGN_ON:TOC1.0');
  }
  cmd(text: string): this {
    return this.frame(0, 2, Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0])]));
  }
  line(text: string): this {
    return this.frame(1, 2, Buffer.from(text, 'utf8'));
  }
}

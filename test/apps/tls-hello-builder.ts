/**
 * Byte-level TLS builders for the tls tests: ClientHello / ServerHello bodies, handshake headers, records. Written from
 * RFC 8446 §4.1.2–4.1.3 and RFC 6066 / 7301 layouts; nothing here is taken from the parser under test.
 */
export interface HelloSpec {
  legacyVersion?: number;
  sessionId?: number;
  ciphers: number[];
  /** Extensions in order: [type, body]. */
  extensions?: [number, Uint8Array][];
  /** Omit the extensions block altogether (pre-1.3 style). */
  noExtensions?: boolean;
}

export const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
export const be24 = (v: number): number[] => [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

export function sniExt(name: string): [number, Uint8Array] {
  const n = [...Buffer.from(name, 'latin1')];
  return [0, Uint8Array.from([...be16(n.length + 3), 0, ...be16(n.length), ...n])];
}

export function alpnExt(names: string[]): [number, Uint8Array] {
  const list = names.flatMap((s) => [s.length, ...Buffer.from(s, 'latin1')]);
  return [16, Uint8Array.from([...be16(list.length), ...list])];
}

export function versionsExt(vs: number[]): [number, Uint8Array] {
  return [43, Uint8Array.from([vs.length * 2, ...vs.flatMap(be16)])];
}

export function sigAlgsExt(vs: number[]): [number, Uint8Array] {
  return [13, Uint8Array.from([...be16(vs.length * 2), ...vs.flatMap(be16)])];
}

export const emptyExt = (type: number, n = 0): [number, Uint8Array] => [type, new Uint8Array(n)];

export function clientHelloBody(s: HelloSpec): Uint8Array {
  const sid = s.sessionId ?? 32;
  const out: number[] = [...be16(s.legacyVersion ?? 0x0303)];
  for (let i = 0; i < 32; i++) out.push((i * 7 + 1) & 0xff);
  out.push(sid);
  for (let i = 0; i < sid; i++) out.push(0xaa);
  out.push(...be16(s.ciphers.length * 2), ...s.ciphers.flatMap(be16));
  out.push(1, 0);
  if (!s.noExtensions) {
    const ext = (s.extensions ?? []).flatMap(([t, b]) => [...be16(t), ...be16(b.length), ...b]);
    out.push(...be16(ext.length), ...ext);
  }
  return Uint8Array.from(out);
}

export function serverHelloBody(version: number, cipher: number, supportedVersion?: number): Uint8Array {
  const out: number[] = [...be16(version)];
  for (let i = 0; i < 32; i++) out.push(i);
  out.push(0, ...be16(cipher), 0);
  const ext = supportedVersion === undefined ? [] : [...be16(43), ...be16(2), ...be16(supportedVersion)];
  out.push(...be16(ext.length), ...ext);
  return Uint8Array.from(out);
}

/** A handshake message: type, 24-bit length, body. */
export function handshake(type: number, body: Uint8Array): Uint8Array {
  return Uint8Array.from([type, ...be24(body.length), ...body]);
}

/** TLS records of content type `ct` carrying `payload`, cut into fragments of at most `max` bytes. */
export function records(payload: Uint8Array, max = 16384, ct = 22, version = 0x0301): Uint8Array {
  const out: number[] = [];
  for (let at = 0; at < payload.length; at += max) {
    const piece = payload.subarray(at, Math.min(payload.length, at + max));
    out.push(ct, ...be16(version), ...be16(piece.length), ...piece);
  }
  return Uint8Array.from(out);
}

/** The FoxIO JA4 documentation's example ClientHello lists (Chrome): ciphers, extensions, signature algorithms. */
export const SPEC_CIPHERS = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
export const SPEC_SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
/** Extensions besides SNI and ALPN, in a client-like order. */
export const SPEC_OTHER_EXTS = [0x0017, 0xff01, 0x000a, 0x000b, 0x0023, 0x0005, 0x000d, 0x0012, 0x0033, 0x002d, 0x002b, 0x001b, 0x4469, 0x0015];

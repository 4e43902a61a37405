/**
 * QUIC Initial packet protection, from the receiving side: the Initial key schedule and the removal of header and
 * payload protection, with node:crypto (HMAC-SHA256 made of one-shot SHA-256 calls, `../tls/digest.ts`; AES-128-ECB,
 * AES-128-GCM).
 *
 * References: RFC 9001 §5 (Initial secrets §5.2, AEAD §5.3, header protection §5.4), RFC 8446 §7.1
 * (HKDF-Expand-Label), RFC 5869 (HKDF), RFC 9369 §3.3 (QUIC v2: its salt, the `quicv2 ` labels and its long-header
 * packet types). Versions covered: 1 (0x00000001), 2 (0x6b3343cf), and the IETF drafts 27–32 (0xff00001b–0xff000020,
 * the v1 labels with the drafts' salts), which some clients still offered in 2021–2022.
 *
 * Nothing here throws on hostile input: a packet that does not authenticate gives null.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { hmacSha256 } from '../tls/digest.js';

export interface QuicVersion {
  version: number;
  /** Name for details: v1, v2, draft-29… */
  name: string;
  salt: Buffer;
  /** Label prefix of the key, iv and hp labels (after TLS 1.3's `tls13 `): `quic ` or `quicv2 `. */
  labelPrefix: string;
  /** Long-header packet type (bits 0x30 of the first byte) of Initial packets. */
  initialType: number;
  /** The HKDF-Expand inputs of this version's labels (`hkdfLabel`), made once: client in, server in, key, iv, hp. */
  labels: { client: Buffer; server: Buffer; key: Buffer; iv: Buffer; hp: Buffer };
}

const SALT_V1 = '38762cf7f55934b34d179ae6a4c80cadccbb7f0a'; // RFC 9001 §5.2
const SALT_V2 = '0dede3def700a6db819381be6e269dcbf9bd2ed9'; // RFC 9369 §3.3.1
const SALT_DRAFT29 = 'afbfec289993d24c9e9786f19c6111e04390a899'; // draft-ietf-quic-tls-29..32 §5.2
const SALT_DRAFT23 = 'c3eef712c72ebb5a11a7d2432bb46365bef9f502'; // draft-ietf-quic-tls-23..28 §5.2

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

const VERSIONS = new Map<number, QuicVersion>();
function add(version: number, name: string, salt: string, labelPrefix: string, initialType: number): void {
  const labels = {
    client: hkdfLabel('client in', 32),
    server: hkdfLabel('server in', 32),
    key: hkdfLabel(`${labelPrefix}key`, 16),
    iv: hkdfLabel(`${labelPrefix}iv`, 12),
    hp: hkdfLabel(`${labelPrefix}hp`, 16),
  };
  VERSIONS.set(version, { version, name, salt: Buffer.from(salt, 'hex'), labelPrefix, initialType, labels });
}
add(QUIC_V1, 'v1', SALT_V1, 'quic ', 0);
add(QUIC_V2, 'v2', SALT_V2, 'quicv2 ', 1);
for (let d = 29; d <= 32; d++) add(0xff000000 + d, `draft-${d}`, SALT_DRAFT29, 'quic ', 0);
for (let d = 27; d <= 28; d++) add(0xff000000 + d, `draft-${d}`, SALT_DRAFT23, 'quic ', 0);

/** The version's Initial parameters, or null for a version whose Initial packets this module cannot open. */
export function quicVersion(version: number): QuicVersion | null {
  return VERSIONS.get(version) ?? null;
}

/** `0x00000001` (the `tls.quic_version` column). */
export function versionHex(version: number): string {
  return `0x${(version >>> 0).toString(16).padStart(8, '0')}`;
}

/** HKDF-Extract (RFC 5869 §2.2) with SHA-256. */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Buffer {
  return hmacSha256(salt, ikm);
}

/**
 * HKDF-Expand-Label (RFC 8446 §7.1) with SHA-256 and an empty context, for at most 32 bytes (one HMAC block): the
 * HkdfLabel is length (2 bytes), the label `tls13 ` + `label` with its length (1 byte), an empty context (1 byte).
 */
export function hkdfExpandLabel(secret: Uint8Array, label: string, length: number): Buffer {
  return expand(secret, hkdfLabel(label, length), length);
}

/** The HKDF-Expand input of HKDF-Expand-Label for `label` and `length`: the HkdfLabel and the block counter. */
function hkdfLabel(label: string, length: number): Buffer {
  const full = `tls13 ${label}`;
  const info = Buffer.alloc(2 + 1 + full.length + 1 + 1);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  info.write(full, 3, 'latin1');
  info[3 + full.length] = 0; // context length
  info[4 + full.length] = 1; // HKDF-Expand's block counter T(1)
  return info;
}

/** HKDF-Expand of one block with a ready `hkdfLabel`. */
function expand(secret: Uint8Array, info: Buffer, length: number): Buffer {
  return hmacSha256(secret, info).subarray(0, length);
}

export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** The client's (`client in`) or the server's (`server in`) Initial secret for a Destination Connection ID. */
export function initialSecret(v: QuicVersion, dcid: Uint8Array, side: 'client' | 'server'): Buffer {
  return expand(hkdfExtract(v.salt, dcid), side === 'client' ? v.labels.client : v.labels.server, 32);
}

/** AEAD key (16), IV (12) and header-protection key (16) from a 32-byte Initial secret (AES-128-GCM). */
export function packetKeys(v: QuicVersion, secret: Uint8Array): InitialKeys {
  return {
    key: expand(secret, v.labels.key, 16),
    iv: expand(secret, v.labels.iv, 12),
    hp: expand(secret, v.labels.hp, 16),
  };
}

/** The keys protecting `side`'s Initial packets on a connection whose client chose `dcid`. */
export function initialKeys(v: QuicVersion, dcid: Uint8Array, side: 'client' | 'server'): InitialKeys {
  return packetKeys(v, initialSecret(v, dcid, side));
}

/** The 5 useful bytes of the header-protection mask: AES-128-ECB of the 16-byte sample (RFC 9001 §5.4.3). */
export function headerMask(hp: Uint8Array, data: Uint8Array, sampleAt: number): Buffer {
  const c = createCipheriv('aes-128-ecb', hp, null);
  c.setAutoPadding(false);
  return c.update(data.subarray(sampleAt, sampleAt + 16));
}

/** An Initial packet opened: its header without protection, packet number and plaintext payload. */
export interface OpenedPacket {
  /** The unprotected header (first byte through the packet number), a copy. */
  header: Buffer;
  /** Truncated packet number as sent, and its length in bytes (1–4). */
  truncatedPn: number;
  pnLength: number;
  /** Full packet number (RFC 9000 §A.3, relative to the largest one opened before). */
  pn: number;
  payload: Buffer;
}

/**
 * Remove header protection (RFC 9001 §5.4.1) and payload protection (§5.3) from the long-header packet
 * `data[start, end)` whose packet number field starts at `pnOffset`. `largestPn` is the largest packet number opened
 * before in this packet number space (-1: none). Null when the packet is too short for a packet number and a sample,
 * or does not authenticate (wrong keys, altered bytes).
 */
export function openPacket(keys: InitialKeys, data: Uint8Array, start: number, pnOffset: number, end: number, largestPn: number): OpenedPacket | null {
  // The sample starts 4 bytes after the start of the packet number field, whatever its length (§5.4.2).
  const sampleAt = pnOffset + 4;
  if (sampleAt + 16 > end || pnOffset <= start) return null;
  const mask = headerMask(keys.hp, data, sampleAt);
  const first = data[start]! ^ (mask[0]! & 0x0f); // long header: the low 4 bits are protected
  const pnLength = (first & 0x03) + 1;
  const payloadAt = pnOffset + pnLength;
  if (end - payloadAt < 16) return null; // not even the AEAD tag
  const header = Buffer.from(data.subarray(start, payloadAt));
  header[0] = first;
  let truncatedPn = 0;
  for (let i = 0; i < pnLength; i++) {
    const b = data[pnOffset + i]! ^ mask[1 + i]!;
    header[pnOffset - start + i] = b;
    truncatedPn = truncatedPn * 256 + b;
  }
  const pn = decodePacketNumber(largestPn, truncatedPn, pnLength * 8);
  // Nonce: the IV XOR the packet number, left-padded to the IV's 12 bytes (§5.3).
  const nonce = Buffer.from(keys.iv);
  let rest = pn;
  for (let i = 11; i >= 4 && rest > 0; i--) {
    nonce[i] = nonce[i]! ^ rest % 256;
    rest = Math.floor(rest / 256);
  }
  try {
    const d = createDecipheriv('aes-128-gcm', keys.key, nonce);
    d.setAAD(header);
    d.setAuthTag(data.subarray(end - 16, end));
    const head = d.update(data.subarray(payloadAt, end - 16));
    const tail = d.final();
    return { header, truncatedPn, pnLength, pn, payload: tail.length === 0 ? head : Buffer.concat([head, tail]) };
  } catch {
    return null;
  }
}

/** RFC 9000 §A.3: the full packet number closest to the next expected one whose low `bits` bits are `truncated`. */
export function decodePacketNumber(largest: number, truncated: number, bits: number): number {
  const expected = largest + 1;
  const win = 2 ** bits;
  const hwin = win / 2;
  const candidate = expected - (expected % win) + truncated; // (expected & ~mask) | truncated, without 32-bit ops
  if (candidate <= expected - hwin && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

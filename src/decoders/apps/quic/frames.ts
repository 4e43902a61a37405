/**
 * The frames of a decrypted Initial packet (RFC 9000 §12.4 table 3, §19): the types an Initial packet may carry are
 * PADDING (0x00), PING (0x01), ACK (0x02, 0x03 with ECN counts), CRYPTO (0x06) and CONNECTION_CLOSE (0x1c). Every
 * other type is a protocol violation there. CRYPTO data is handed to a callback (a view of `payload`, valid during the
 * call); the rest is skipped after its lengths are checked.
 *
 * Pure and bounded: at most `maxFrames` frames (a PADDING run counts once), every length checked; nothing throws.
 */
import { readVarint } from './packet.js';

export type CryptoSink = (offset: number, data: Uint8Array, start: number, end: number) => void;

/** Walk the frames of `payload`; null when all were well formed, else an error text naming the frame and its offset. */
export function readInitialFrames(payload: Uint8Array, maxFrames: number, onCrypto: CryptoSink): string | null {
  const end = payload.length;
  const v: number[] = [0];
  let p = 0;
  let frames = 0;
  while (p < end) {
    if (++frames > maxFrames) return `more than ${maxFrames} frames in one packet at offset ${p}`;
    const at = p;
    const type = payload[p]!;
    // Frame types are varints; every type allowed here is one byte (a two-byte encoding starts with 0x40..0x7f).
    p++;
    switch (type) {
      case 0x00: // PADDING: skip the whole run
        while (p < end && payload[p] === 0) p++;
        break;
      case 0x01: // PING
        break;
      case 0x02:
      case 0x03: {
        // ACK: Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range, ranges (Gap, Length), ECN counts.
        let n = 0;
        for (let i = 0; i < 4; i++) {
          const k = readVarint(payload, p, end, v);
          if (k === 0) return `ACK frame cut at offset ${at}`;
          p += k;
          if (i === 2) n = v[0]!;
        }
        // Each range takes at least 2 bytes: a count beyond what remains is malformed (and bounds the loop).
        if (n > (end - p) / 2) return `ACK range count ${n} exceeds remaining ${end - p} bytes at offset ${at}`;
        for (let i = 0; i < 2 * n + (type === 0x03 ? 3 : 0); i++) {
          const k = readVarint(payload, p, end, v);
          if (k === 0) return `ACK frame cut at offset ${at}`;
          p += k;
        }
        break;
      }
      case 0x06: {
        // CRYPTO: Offset, Length, Crypto Data.
        let k = readVarint(payload, p, end, v);
        if (k === 0) return `CRYPTO offset cut at offset ${at}`;
        p += k;
        const offset = v[0]!;
        k = readVarint(payload, p, end, v);
        if (k === 0) return `CRYPTO length cut at offset ${at}`;
        p += k;
        const length = v[0]!;
        if (length > end - p) return `CRYPTO length ${length} exceeds remaining ${end - p} at offset ${at}`;
        onCrypto(offset, payload, p, p + length);
        p += length;
        break;
      }
      case 0x1c: {
        // CONNECTION_CLOSE (transport): Error Code, Frame Type, Reason Phrase Length, Reason Phrase.
        for (let i = 0; i < 3; i++) {
          const k = readVarint(payload, p, end, v);
          if (k === 0) return `CONNECTION_CLOSE frame cut at offset ${at}`;
          p += k;
        }
        if (v[0]! > end - p) return `CONNECTION_CLOSE reason length ${v[0]} exceeds remaining ${end - p} at offset ${at}`;
        p += v[0]!;
        break;
      }
      default:
        return `frame type 0x${type.toString(16).padStart(2, '0')} is not allowed in an Initial packet at offset ${at}`;
    }
  }
  return null;
}

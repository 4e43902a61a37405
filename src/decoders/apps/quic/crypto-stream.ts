/**
 * Reassembly of the CRYPTO stream of one packet number space (RFC 9000 §19.6): CRYPTO frames carry byte ranges of the
 * TLS handshake at explicit offsets, possibly out of order, repeated (retransmissions) or overlapping. The bytes are
 * copied into one buffer that grows by doubling up to `maxBytes`; the ranges received are kept sorted and merged, at
 * most `maxRanges` of them.
 */

export const enum Add {
  Ok = 0,
  /** Data past maxBytes: the part beyond the limit was dropped. */
  OverLimit = 1,
  /** More than maxRanges separate pieces: the piece was dropped. */
  TooManyRanges = 2,
}

export class CryptoStream {
  private buf = new Uint8Array(0);
  /** Received ranges [start, end), sorted, disjoint and not adjacent. */
  private starts: number[] = [];
  private ends: number[] = [];

  constructor(
    private readonly maxBytes: number,
    private readonly maxRanges: number,
  ) {}

  /** Add `data[s, e)` at stream offset `offset`. Overlapping bytes are taken from the later frame (they should be equal). */
  add(offset: number, data: Uint8Array, s: number, e: number): Add {
    let status = Add.Ok;
    if (offset >= this.maxBytes) return e > s ? Add.OverLimit : Add.Ok;
    if (offset + (e - s) > this.maxBytes) {
      e = s + (this.maxBytes - offset);
      status = Add.OverLimit;
    }
    if (e <= s) return status;
    const start = offset;
    const end = offset + (e - s);
    // Merge with the ranges it touches.
    let i = 0;
    while (i < this.starts.length && this.ends[i]! < start) i++;
    let j = i;
    let ns = start;
    let ne = end;
    while (j < this.starts.length && this.starts[j]! <= end) {
      ns = Math.min(ns, this.starts[j]!);
      ne = Math.max(ne, this.ends[j]!);
      j++;
    }
    if (j === i && this.starts.length >= this.maxRanges) return Add.TooManyRanges;
    this.starts.splice(i, j - i, ns);
    this.ends.splice(i, j - i, ne);
    if (end > this.buf.length) {
      let size = Math.max(this.buf.length * 2, 4096);
      while (size < end) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.maxBytes));
      grown.set(this.buf, 0);
      this.buf = grown;
    }
    this.buf.set(data.subarray(s, e), start);
    return status;
  }

  /** Bytes available from offset 0 without a hole. */
  get contiguous(): number {
    return this.starts.length > 0 && this.starts[0] === 0 ? this.ends[0]! : 0;
  }

  /** Bytes received in all (for details). */
  get received(): number {
    let n = 0;
    for (let i = 0; i < this.starts.length; i++) n += this.ends[i]! - this.starts[i]!;
    return n;
  }

  /** The stream's buffer (valid until the next `add`); bytes [0, contiguous) are the stream's first bytes. */
  get bytes(): Uint8Array {
    return this.buf;
  }
}

/**
 * The read window shared by the format parsers: one large buffer, the unread bytes in [pos, end), and the absolute
 * input offset of buf[0]. Parsers consume from pos and, when a record is not complete, ask for a number of bytes
 * from pos; the driver then moves the unread tail to the front (the only copy a record ever gets, and only when it
 * straddles two reads) and reads more.
 */
export class Window {
  buf: Uint8Array;
  pos = 0;
  end = 0;
  /** Absolute input offset of buf[0]. */
  base = 0;

  constructor(readonly chunkSize: number) {
    this.buf = new Uint8Array(chunkSize);
  }

  get available(): number {
    return this.end - this.pos;
  }

  /** Absolute input offset of `pos`. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Make room for `need` bytes from pos: move the tail to the front, growing the buffer only for a larger record. */
  makeRoom(need: number): void {
    if (this.buf.length - this.pos >= need && this.buf.length - this.end >= Math.min(need, this.chunkSize >> 2)) return;
    const tail = this.end - this.pos;
    if (need > this.buf.length) {
      const nb = new Uint8Array(need + this.chunkSize);
      nb.set(this.buf.subarray(this.pos, this.end), 0);
      this.buf = nb;
    } else if (tail > 0 && this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
    }
    this.base += this.pos;
    this.pos = 0;
    this.end = tail;
  }

  /** Drop a grown buffer once the large record in it is consumed, so one big record does not pin memory. */
  shrink(): void {
    if (this.buf.length <= this.chunkSize * 2 || this.end - this.pos > this.chunkSize) return;
    const nb = new Uint8Array(this.chunkSize);
    nb.set(this.buf.subarray(this.pos, this.end), 0);
    this.base += this.pos;
    this.end -= this.pos;
    this.pos = 0;
    this.buf = nb;
  }
}

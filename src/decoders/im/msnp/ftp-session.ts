/**
 * MSNFTP, the file-transfer subprotocol of MSN Messenger 3 to 5 (replaced by MSNSLP/P2P from 6.0 on), on the
 * connection an invitation's ACCEPT announced (`ctx.expected` = MsnFtpContext, mime.ts). Text lines without
 * transaction ids: `VER MSNFTP` both ways, the receiver's `USR <account> <AuthCookie>` (the cookie is never kept),
 * the sender's `FIL <size>`, the receiver's `TFR`; then the sender's data blocks, each a 3-byte header — 0x00 and a
 * 16-bit little-endian length — and that many bytes of the file, ended by a header starting 0x01; the receiver says
 * `BYE <code>` (16777989: received) or `CCL` (cancelled). Either side may be the TCP client (`Sender-Connect`): the
 * file's direction is the one that sent FIL. References: hypothetic.org "Protocols - File Transfer" (MSNP7-era),
 * yellows111's MSNFTP page; Wireshark's `msnms` dissector shows the text lines (not the blocks).
 */
import type { Dir, FileSink, ImSession, SessionContext, Time } from '../types.js';
import { MSNFTP_LIMITS, type MsnFtpLimits } from './limits.js';
import type { MsnFtpContext } from './mime.js';
import { findLf, latin1, lineTextEnd } from './parse.js';

export function createMsnFtpSession(ctx: SessionContext, limits: Partial<MsnFtpLimits> = {}): ImSession {
  const c = ctx.expected as MsnFtpContext | null;
  const l = { ...MSNFTP_LIMITS, ...limits };
  if (c === null || typeof c !== 'object' || !('invitation' in c)) return new NoInvite(ctx);
  return new MsnFtp(ctx, c, l);
}

/** A connection nobody announced: not analysed. */
class NoInvite implements ImSession {
  private said = false;
  constructor(private readonly ctx: SessionContext) {}
  onData(_d: Dir, _b: Uint8Array, _o: number, len: number, ts: Time): number {
    if (!this.said) {
      this.said = true;
      this.ctx.anomaly(ts, 'msnp_ftp_no_invite', 'MSNFTP connection without the invitation that announced it');
      this.ctx.reject('MSNFTP connection without the invitation that announced it');
    }
    return len;
  }
  onGap(): void {}
  onEnd(): void {}
  finish(): void {}
}

class MsnFtp implements ImSession {
  /** The direction the file flows in (the side that sent FIL); null before FIL. */
  private dataDir: Dir | null = null;
  private size: number | null;
  private sink: FileSink | null = null;
  private closed = false;
  /** Bytes of the current data block still to come; -1 between blocks. */
  private blockLeft = -1;
  /** A block header cut between calls. */
  private readonly header = new Uint8Array(3);
  private headerHave = 0;
  private pos = 0;
  private excessReported = false;
  private confirmed = false;
  private readonly skipping: [boolean, boolean] = [false, false];

  constructor(
    private readonly ctx: SessionContext,
    private readonly c: MsnFtpContext,
    private readonly limits: MsnFtpLimits,
  ) {
    this.size = c.size;
    ctx.setKind('file');
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (dir === this.dataDir) return this.blocks(data, off, len, ts);
    const end = off + len;
    let at = off;
    while (at < end) {
      const lf = findLf(data, at, end);
      if (this.skipping[dir]) {
        if (lf < 0) return len;
        this.skipping[dir] = false;
        at = lf + 1;
        continue;
      }
      if (lf < 0) {
        if (end - at < this.limits.maxFtpLineBytes) return at - off;
        this.skipping[dir] = true;
        this.ctx.anomaly(ts, 'msnp_ftp_line_size_exceeded', `MSNFTP line of ${end - at} bytes or more exceeds ${this.limits.maxFtpLineBytes}`);
        return len;
      }
      if (lf + 1 - at > this.limits.maxFtpLineBytes) {
        this.ctx.anomaly(ts, 'msnp_ftp_line_size_exceeded', `MSNFTP line of ${lf + 1 - at} bytes exceeds ${this.limits.maxFtpLineBytes}`);
        at = lf + 1;
        continue;
      }
      const line = latin1(data, at, lineTextEnd(data, at, lf));
      at = lf + 1;
      this.command(dir, line, ts);
      // After FIL the sender's next bytes are data blocks.
      if (dir === this.dataDir) return at - off + this.blocks(data, at, end - at, ts);
    }
    return len;
  }

  private command(dir: Dir, line: string, ts: Time): void {
    const tok = line.split(' ').filter((t) => t.length > 0);
    switch (tok[0]) {
      case 'VER':
        if (tok[1] === 'MSNFTP' && !this.confirmed) {
          this.confirmed = true;
          this.ctx.confirm(1);
        }
        return;
      case 'FIL': {
        const n = tok[1] !== undefined && /^\d{1,15}$/.test(tok[1]) ? Number(tok[1]) : null;
        if (n !== null) this.size = n;
        this.dataDir = dir;
        this.ctx.confirm(1);
        return;
      }
      case 'BYE':
      case 'CCL':
        if (this.sink !== null) this.close(ts);
        return;
      default:
        return; // USR (its AuthCookie is not kept), TFR
    }
  }

  private open(ts: Time): FileSink {
    this.sink ??= this.ctx.openFile(ts, { sender: this.c.sender, recipient: this.c.recipient, filename: this.c.filename, size: this.size, method: 'msnftp' });
    return this.sink;
  }

  /** Data blocks in `data[off, off + len)` of the sender's direction; always consumes everything. */
  private blocks(data: Uint8Array, off: number, len: number, ts: Time): number {
    const end = off + len;
    let at = off;
    while (at < end && !this.closed) {
      if (this.blockLeft > 0) {
        const n = Math.min(this.blockLeft, end - at);
        this.write(data, at, n, ts);
        this.blockLeft -= n;
        at += n;
        continue;
      }
      const take = Math.min(3 - this.headerHave, end - at);
      this.header.set(data.subarray(at, at + take), this.headerHave);
      this.headerHave += take;
      at += take;
      if (this.headerHave < 3) break;
      this.headerHave = 0;
      const kind = this.header[0]!;
      const blen = this.header[1]! | (this.header[2]! << 8);
      if (kind === 1) {
        this.close(ts);
        break;
      }
      if (kind !== 0) {
        this.ctx.anomaly(ts, 'msnp_ftp_block_invalid', `MSNFTP block header starts with 0x${kind.toString(16).padStart(2, '0')} at file offset ${this.pos}`);
        this.close(ts);
        break;
      }
      this.open(ts);
      this.blockLeft = blen;
    }
    return len;
  }

  private write(data: Uint8Array, at: number, n: number, ts: Time): void {
    const sink = this.open(ts);
    let k = n;
    if (this.size !== null && this.pos + n > this.size) {
      k = Math.max(0, this.size - this.pos);
      if (!this.excessReported) {
        this.excessReported = true;
        this.ctx.anomaly(ts, 'msnp_ftp_size_exceeded', `MSNFTP transfer of ${JSON.stringify(this.c.filename)} carried ${this.pos + n} bytes or more, FIL announced ${this.size}`);
      }
    }
    if (k > 0) sink.write(data, at, k);
    this.pos += n;
  }

  onGap(dir: Dir, len: number, ts: Time): void {
    if (dir !== this.dataDir || this.closed) {
      if (dir !== this.dataDir) this.skipping[dir] = true;
      return;
    }
    // Inside a block the hole is file bytes; elsewhere block boundaries are lost: the rest cannot be framed.
    if (this.blockLeft >= len) {
      this.open(ts).gap(len);
      this.pos += len;
      this.blockLeft -= len;
      return;
    }
    this.open(ts).gap(len);
    this.close(ts);
  }

  onEnd(dir: Dir, ts: Time): void {
    if (dir === this.dataDir) this.close(ts);
  }

  finish(ts: Time): void {
    this.close(ts);
  }

  private close(ts: Time): void {
    if (this.closed) return;
    this.closed = true;
    // A connection that never got to the data is still a transfer attempt: reported with 0 bytes.
    this.open(ts).close(ts);
  }
}

/**
 * XEP-0065 SOCKS5 bytestream data connections (XEP-0065 1.8, also the XEP-0260 Jingle S5B transport): the SOCKS5
 * handshake of RFC 1928 as XEP-0065 §5.3.2 uses it — greeting (no authentication), CONNECT to a domain that is the
 * hex SHA-1 of sid + requester JID + target JID, port 0; method choice and reply from the other side — then the raw
 * file bytes, in whichever direction they go (initiator → target on a direct connection, and through a proxy:
 * initiator → proxy on the initiator's connection, proxy → target on the target's).
 *
 * The handshake is skipped, not verified (the hash needs the exact full JIDs, which the signalling flow may not show).
 * The file goes to `ctx.openFile` (method socks5) with the name, size and parties the offer gave (`ctx.expected`, an
 * `S5bContext`), or none when the connection was recognised by its handshake alone.
 */
import type { Dir, FileSink, ImSession, SessionContext, Time } from '../types.js';
import { S5B_LIMITS } from './schema.js';
import type { S5bContext } from './transfers.js';

const enum Phase {
  Hello,
  Request,
  Data,
  Dead,
}

function asContext(x: unknown): S5bContext | null {
  if (typeof x !== 'object' || x === null) return null;
  const o = x as Record<string, unknown>;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    sid: str(o.sid) ?? '',
    requester: str(o.requester),
    target: str(o.target),
    filename: str(o.filename),
    size: typeof o.size === 'number' && Number.isSafeInteger(o.size) && o.size >= 0 ? o.size : null,
    sender: str(o.sender),
    recipient: str(o.recipient),
  };
}

export class S5bSession implements ImSession {
  private readonly phase: [Phase, Phase] = [Phase.Hello, Phase.Hello];
  private readonly context: S5bContext | null;
  private confirmed = false;
  private sink: FileSink | null = null;
  private dataDir: Dir | null = null;
  private lost = false;
  private closed = false;
  private warnedBoth = false;
  private warnedExcess = false;

  constructor(private readonly ctx: SessionContext) {
    this.context = asContext(ctx.expected);
    ctx.setKind('file');
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    const end = off + len;
    let p = off;
    while (p < end && this.phase[dir] < Phase.Data) {
      const n = dir === 0 ? this.clientStep(data, p, end) : this.serverStep(data, p, end);
      if (n === 0) {
        if (end - p > S5B_LIMITS.maxHandshakeBytes) this.bad(dir, `handshake longer than ${S5B_LIMITS.maxHandshakeBytes} bytes`, ts);
        return this.phase[dir] === Phase.Dead ? len : p - off;
      }
      if (n < 0) {
        this.bad(dir, `${dir === 0 ? (this.phase[0] === Phase.Hello ? 'greeting' : 'request') : this.phase[1] === Phase.Hello ? 'method choice' : 'reply'} byte 0x${(data[p - n - 1] ?? 0).toString(16)} at offset ${-n - 1}`, ts);
        return len;
      }
      p += n;
      this.phase[dir]++;
      if (this.phase[0] >= Phase.Data && this.phase[1] >= Phase.Data && !this.confirmed) {
        this.confirmed = true;
        this.ctx.confirm(this.context !== null ? 1 : 0.9);
      }
    }
    if (this.phase[dir] === Phase.Dead) return len;
    if (p < end) this.data(dir, data, p, end - p, ts);
    return len;
  }

  /** Bytes of the next client handshake message at `p`: > 0 its length, 0 need more, < 0 -(offset of the bad byte + 1). */
  private clientStep(data: Uint8Array, p: number, end: number): number {
    if (end - p < 2) return 0;
    if (data[p] !== 0x05) return -1;
    if (this.phase[0] === Phase.Hello) {
      const n = data[p + 1]!;
      if (n === 0) return -2;
      return end - p >= 2 + n ? 2 + n : 0;
    }
    if (data[p + 1] !== 0x01) return -2;
    return addressLength(data, p, end);
  }

  private serverStep(data: Uint8Array, p: number, end: number): number {
    if (end - p < 2) return 0;
    if (data[p] !== 0x05) return -1;
    if (this.phase[1] === Phase.Hello) return data[p + 1] === 0x00 ? 2 : -2;
    if (data[p + 1] !== 0x00) return -2; // the reply says the connection failed
    return addressLength(data, p, end);
  }

  private bad(dir: Dir, what: string, ts: Time): void {
    this.phase[dir] = Phase.Dead;
    const reason = `not a SOCKS5 bytestream: bad ${what} from the ${dir === 0 ? 'client' : 'server'}`;
    if (this.confirmed) this.ctx.anomaly(ts, 'xmpp_s5b_bad_handshake', reason);
    else this.ctx.reject(reason);
  }

  private data(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): void {
    if (this.dataDir === null) {
      this.dataDir = dir;
      const c = this.context;
      this.sink = this.ctx.openFile(ts, { sender: c?.sender ?? null, recipient: c?.recipient ?? null, filename: c?.filename ?? null, size: c?.size ?? null, method: 'socks5' });
    }
    if (dir !== this.dataDir) {
      if (!this.warnedBoth) this.ctx.anomaly(ts, 'xmpp_s5b_both_directions', `data from the ${dir === 0 ? 'client' : 'server'} while the file goes from the ${dir === 0 ? 'server' : 'client'}`);
      this.warnedBoth = true;
      return;
    }
    const sink = this.sink!;
    const size = this.context?.size ?? null;
    let n = len;
    if (this.closed || (size !== null && sink.bytes + n > size)) {
      if (!this.warnedExcess) this.ctx.anomaly(ts, 'xmpp_s5b_excess_data', `file data beyond the announced size of ${size ?? '?'} bytes`);
      this.warnedExcess = true;
      n = this.closed || size === null ? 0 : Math.max(0, size - sink.bytes);
    }
    if (n > 0) sink.write(data, off, n);
    if (size !== null && !this.closed && sink.bytes >= size) this.close(ts, !this.lost);
  }

  private close(ts: Time, complete: boolean): void {
    if (this.sink === null || this.closed) return;
    this.closed = true;
    this.sink.close(ts, complete);
  }

  onGap(dir: Dir, len: number, _ts: Time): void {
    if (this.phase[dir] === Phase.Dead) return;
    // A hole in the handshake: whatever follows is taken as data. A hole before or in the data: the file is short.
    if (this.phase[dir] < Phase.Data) this.phase[dir] = Phase.Data;
    if (this.dataDir === null || this.dataDir === dir) this.lost = true;
    if (dir === this.dataDir && this.sink !== null && !this.closed) this.sink.gap(len);
  }

  onEnd(dir: Dir, ts: Time): void {
    // Without an announced size, the sender closing its side without a gap ends the file.
    if (dir === this.dataDir && this.context?.size == null) this.close(ts, !this.lost);
  }

  finish(ts: Time): void {
    const size = this.context?.size ?? null;
    this.close(ts, !this.lost && size !== null && (this.sink?.bytes ?? 0) >= size);
  }
}

/** Length of a request/reply `VER CMD RSV ATYP ADDR PORT` at `p`, 0 when incomplete, < 0 when ATYP is unknown. */
function addressLength(data: Uint8Array, p: number, end: number): number {
  if (end - p < 5) return 0;
  const atyp = data[p + 3];
  const n = atyp === 0x01 ? 4 + 6 : atyp === 0x04 ? 16 + 6 : atyp === 0x03 ? 1 + data[p + 4]! + 6 : -1;
  if (n < 0) return -4;
  return end - p >= n ? n : 0;
}

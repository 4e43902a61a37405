/**
 * MSNSLP file transfers' data relayed through the switchboard (MSN Messenger 6 to Windows Live Messenger 8.x, MSNP8-15):
 * after the file INVITE (slp.ts: its `SessionID` and the Context's name and size) the sender's P2Pv1 messages with that
 * session id and the data flags (0x01000030, or 0x01000020 without the "each chunk acknowledged" bit), footer
 * (application id) 2, carry the file: each chunk's 64-bit offset places its bytes, the 64-bit total is the file's size.
 * The file is hashed and carved (`ctx.openFile`, method `msnp2p`) as it is placed, complete when every byte of the
 * size is seen; chunks that arrive before a missing earlier one are held (`maxP2pHeldBytes`), duplicates dropped. An
 * offer whose data never crosses the switchboard (a direct connection, a declined or cancelled offer) stays an offer:
 * a transfer row with `bytes_seen` 0 at the end. References: the nina.chat wiki (MSNC: P2P, File Transfer), the
 * "MSN Messenger P2P" notes of the amsn and pidgin (libmsn) projects; Wireshark has no P2P dissector.
 */
import type { FileMeta, FileSink, SessionContext, Time } from '../types.js';
import type { MsnpLimits } from './limits.js';

/** P2Pv1 flags of file data chunks (MSNC: 0x01000030 = file data + each chunk acknowledged; 0x01000020 = file data). */
export const FILE_DATA_FLAGS = new Set([0x01000030, 0x01000020]);
/** P2P footer (application id) of file transfers. */
export const FILE_APP_ID = 2;

interface P2pFile {
  meta: FileMeta;
  size: number;
  offerTs: Time;
  sink: FileSink | null;
  /** Bytes of the file placed so far, from 0 (no hole before it). */
  next: number;
  held: Map<number, Uint8Array>;
  heldBytes: number;
  warned: boolean;
}

export class P2pFiles {
  /** Offers and transfers in progress by P2P session id; insertion order = age. */
  private readonly files = new Map<number, P2pFile>();
  /** Sessions already complete (late duplicates are ignored), bounded. */
  private readonly done = new Set<number>();
  private heldBytes = 0;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: MsnpLimits,
  ) {}

  has(sid: number): boolean {
    return this.files.has(sid);
  }

  /** A file INVITE: its data, if it crosses this flow, will come in P2P session `sid`. */
  offer(sid: number, meta: FileMeta, size: number, ts: Time): void {
    if (this.files.has(sid) || this.done.has(sid)) return;
    if (this.files.size >= this.limits.maxP2pFiles) {
      const [oldSid, old] = this.files.entries().next().value as [number, P2pFile];
      this.ctx.anomaly(ts, 'msnp_p2p_exceeded', `P2P file ${this.limits.maxP2pFiles + 1} exceeds ${this.limits.maxP2pFiles}: session ${oldSid} given up`);
      this.close(oldSid, old, ts);
    }
    this.files.set(sid, { meta, size, offerTs: ts, sink: null, next: 0, held: new Map(), heldBytes: 0, warned: false });
  }

  /** An offer declined or cancelled before any data: reported now as an offer. */
  cancel(sid: number, ts: Time): void {
    const f = this.files.get(sid);
    if (f !== undefined && f.sink === null) this.close(sid, f, ts);
  }

  /**
   * A data chunk of session `sid`: `data[s, e)` at `offset` of a file of `total` bytes. False when the session is no
   * file this flow saw offered.
   */
  data(sid: number, offset: number, total: number, data: Uint8Array, s: number, e: number, ts: Time): boolean {
    const f = this.files.get(sid);
    if (f === undefined) return this.done.has(sid);
    if (total !== f.size && !f.warned) {
      f.warned = true;
      this.ctx.anomaly(ts, 'msnp_p2p_data_invalid', `P2P session ${sid}: data for ${total} bytes, the offer said ${f.size}`);
    }
    let end = e;
    if (offset + (e - s) > f.size) {
      if (!f.warned) {
        f.warned = true;
        this.ctx.anomaly(ts, 'msnp_p2p_data_invalid', `P2P session ${sid}: ${e - s} bytes at offset ${offset} run past the file's ${f.size} bytes`);
      }
      end = s + Math.max(0, f.size - offset);
    }
    f.sink ??= this.ctx.openFile(f.offerTs, f.meta);
    if (offset > f.next) {
      // Before a missing earlier chunk: held until the hole is filled (or becomes a gap at the end).
      const n = end - s;
      if (n > 0 && !f.held.has(offset)) {
        if (this.heldBytes + n > this.limits.maxP2pHeldBytes) {
          this.ctx.anomaly(ts, 'msnp_p2p_exceeded', `P2P session ${sid}: ${this.heldBytes + n} bytes held out of order exceed ${this.limits.maxP2pHeldBytes}: chunk at ${offset} dropped`);
        } else {
          f.held.set(offset, data.slice(s, end));
          f.heldBytes += n;
          this.heldBytes += n;
        }
      }
      return true;
    }
    this.place(f, offset, data, s, end);
    this.drain(f);
    if (f.next >= f.size) this.close(sid, f, ts);
    return true;
  }

  /** The flow ended: offers without data are reported as offers, transfers in progress as incomplete. */
  finish(ts: Time): void {
    for (const [sid, f] of [...this.files]) this.close(sid, f, ts);
  }

  private place(f: P2pFile, offset: number, data: Uint8Array, s: number, e: number): void {
    const from = s + Math.max(0, f.next - offset);
    if (from >= e) return; // a duplicate
    f.sink!.write(data, from, e - from);
    f.next += e - from;
  }

  private drain(f: P2pFile): void {
    while (f.held.size > 0) {
      let best = -1;
      for (const o of f.held.keys()) if (o <= f.next && (best < 0 || o < best)) best = o;
      if (best < 0) return;
      const b = f.held.get(best)!;
      f.held.delete(best);
      f.heldBytes -= b.length;
      this.heldBytes -= b.length;
      this.place(f, best, b, 0, b.length);
    }
  }

  private close(sid: number, f: P2pFile, ts: Time): void {
    this.files.delete(sid);
    if (this.done.size >= this.limits.maxP2pFiles * 8) this.done.clear();
    this.done.add(sid);
    if (f.sink === null) {
      const m = f.meta;
      this.ctx.transfer(f.offerTs, { sender: m.sender, recipient: m.recipient, filename: m.filename, size: m.size, bytes_seen: 0, md5: null, sha256: null, complete: false, path: null, method: m.method });
      return;
    }
    const complete = f.next >= f.size && f.held.size === 0;
    // What is still held lies after a hole: written after a gap of the missing bytes.
    for (const o of [...f.held.keys()].sort((a, b) => a - b)) {
      const b = f.held.get(o)!;
      if (o > f.next) {
        f.sink.gap(o - f.next);
        f.next = o;
      }
      this.place(f, o, b, 0, b.length);
      this.heldBytes -= b.length;
    }
    f.held.clear();
    if (f.next < f.size) f.sink.gap(f.size - f.next);
    f.sink.close(ts, complete);
  }
}

/**
 * Reassembly of chunked MSRP messages (RFC 4975 §5.1, §7.1.1): the chunks of one message share its Message-ID, each
 * says where its bytes go (`Byte-Range: start-end/total`, 1-based) and whether more follow (end-line flag `+`), it is
 * the last (`$`) or the message was aborted (`#`). Text-like messages (text/*, message/cpim, isComposing, IMDN, PIDF)
 * are kept, in order of their byte offsets, up to maxMessageBytes; anything else is a file: its bytes go to a file
 * sink as they arrive (gaps and overlaps accounted by offset), never buffered.
 */
import type { FileSink, SessionContext, Time } from '../types.js';
import type { ContentType } from '../sip/content.js';
import type { MsrpLimits } from './limits.js';

/** Media types kept as text and interpreted (sip/content.ts); others are files. */
export function isTextual(ct: ContentType | null): boolean {
  if (ct === null) return true;
  const t = ct.type;
  return t.startsWith('text/') || t === 'message/cpim' || t === 'application/im-iscomposing+xml' || t === 'message/imdn+xml' || t === 'application/pidf+xml';
}

export interface MsgMeta {
  messageId: string;
  ct: ContentType | null;
  sender: string | null;
  recipient: string | null;
  filename: string | null;
  size: number | null;
}

interface Run {
  start: number;
  len: number;
  parts: Uint8Array[];
}

export class PendingMessage {
  chunks = 0;
  /** Text: runs of bytes by 0-based offset, sorted, never overlapping (the first bytes seen for an offset win). */
  private readonly runs: Run[] = [];
  private kept = 0;
  truncated = false;
  /** File: bytes accounted for (written or lost in gaps), i.e. the next expected 0-based offset. */
  private pos = 0;
  private sink: FileSink | null = null;
  private overlapReported = false;
  private hadGap = false;
  readonly text: boolean;

  constructor(
    readonly meta: MsgMeta,
    private readonly ctx: SessionContext,
    private readonly limits: MsrpLimits,
    readonly started: Time,
  ) {
    this.text = isTextual(meta.ct);
  }

  /** Body bytes `data[s, e)` belonging at 0-based offset `at` of the message. */
  add(at: number, data: Uint8Array, s: number, e: number, ts: Time): void {
    if (e <= s) return;
    if (this.text) {
      const room = this.limits.maxMessageBytes - this.kept;
      const n = Math.min(room, e - s);
      if (n < e - s && !this.truncated) {
        this.truncated = true;
        this.ctx.anomaly(ts, 'msrp_message_too_large', `MSRP message ${this.meta.messageId} exceeds ${this.limits.maxMessageBytes} bytes: cut`);
      }
      if (n > 0) this.kept += this.insert(at, data, s, s + n);
      return;
    }
    const sink = this.open(ts);
    let from = s;
    if (at > this.pos) {
      this.hadGap = true;
      sink.gap(at - this.pos);
      this.pos = at;
    } else if (at < this.pos) {
      const skip = Math.min(e - s, this.pos - at);
      from += skip;
      if (!this.overlapReported) {
        this.overlapReported = true;
        this.ctx.anomaly(ts, 'msrp_byte_range_invalid', `MSRP message ${this.meta.messageId}: bytes from offset ${at + 1} overlap the ${this.pos} already seen`);
      }
    }
    if (e > from) {
      sink.write(data, from, e - from);
      this.pos += e - from;
    }
  }

  private open(ts: Time): FileSink {
    this.sink ??= this.ctx.openFile(ts, { sender: this.meta.sender, recipient: this.meta.recipient, filename: this.meta.filename, size: this.meta.size, method: 'msrp' });
    return this.sink;
  }

  /**
   * Keep `data[s, e)` at offset `at`, except bytes whose offsets are held already: the result does not depend on how
   * the bytes were cut into pieces. Returns the bytes kept.
   */
  private insert(at: number, data: Uint8Array, s: number, e: number): number {
    const runs = this.runs;
    // First run that ends after `at` (runs are sorted and disjoint, so their ends are sorted too).
    let lo = 0;
    let hi = runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (runs[mid]!.start + runs[mid]!.len <= at) lo = mid + 1;
      else hi = mid;
    }
    let kept = 0;
    let pos = at;
    const end = at + (e - s);
    let i = lo;
    while (pos < end) {
      const next = runs[i];
      const stop = next === undefined ? end : Math.min(end, next.start);
      if (stop > pos) {
        const bytes = data.slice(s + (pos - at), s + (stop - at));
        const prev = i > 0 ? runs[i - 1]! : undefined;
        if (prev !== undefined && prev.start + prev.len === pos) {
          prev.parts.push(bytes);
          prev.len += bytes.length;
        } else {
          runs.splice(i, 0, { start: pos, len: bytes.length, parts: [bytes] });
          i++;
        }
        kept += bytes.length;
        pos = stop;
      }
      if (next === undefined) break;
      pos = Math.max(pos, next.start + next.len);
      i++;
    }
    return kept;
  }

  /** The text, in offset order. */
  textBytes(): Uint8Array {
    return Buffer.concat(this.runs.flatMap((r) => r.parts));
  }

  /** Bytes of the message were lost in a hole of the connection (how many is known from the next chunk's offset). */
  markGap(): void {
    this.hadGap = true;
  }

  /** Whether bytes of the message are missing. */
  get damaged(): boolean {
    return this.hadGap;
  }

  /**
   * A file: close the sink (a file that never got a byte still gets its row). `finished`: its last chunk (`$`) came;
   * it is complete when nothing was missing and the announced size (if any) was reached.
   */
  closeFile(ts: Time, finished: boolean): void {
    const sink = this.open(ts);
    const size = this.meta.size;
    sink.close(ts, finished && !this.hadGap && (size === null || this.pos === size));
  }
}

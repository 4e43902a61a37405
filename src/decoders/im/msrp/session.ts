/**
 * The MSRP session (RFC 4975): frames in both directions (parse.ts), SEND chunks reassembled into messages by
 * Message-ID and Byte-Range (assemble.ts), REPORTs and error responses as events, confirmation when a response in
 * one direction answers a request of the other. Sender and recipient are the parties the SIP session that announced
 * the connection knows for the From-Path and To-Path URIs (`ctx.expected`, context.ts), else the MSRP URIs themselves.
 * Text bodies are interpreted as for SIP MESSAGE (sip/content.ts: text, CPIM, isComposing, IMDN); other bodies are
 * files carved through `ctx.openFile` (method `msrp`), named by Content-Disposition or the SDP file-selector.
 */
import type { Dir, ImSession, SessionContext, Time } from '../types.js';
import { interpret, parseContentType } from '../sip/content.js';
import { parseMsrpUri } from '../sip/sdp.js';
import { latin1 } from '../sip/text.js';
import { isTextual, PendingMessage } from './assemble.js';
import { asMsrpContext, partyOf, type MsrpContext } from './context.js';
import { MSRP_LIMITS, type MsrpLimits } from './limits.js';
import { lastPathUri, parseByteRange, parseStartLine, readHead, scanBody, type MsrpHead } from './parse.js';

type Mode = 'head' | 'body' | 'resync';

interface Current {
  head: MsrpHead;
  msg: PendingMessage | null;
  /** 0-based offset in the message of the next body byte. */
  offset: number;
  /** `\n-------<transact-id>`: what ends the body. */
  pattern: Uint8Array;
}

const MAX_LINE = 1024;

export function createMsrpSession(ctx: SessionContext, limits: Partial<MsrpLimits> = {}): ImSession {
  return new MsrpSession(ctx, { ...MSRP_LIMITS, ...limits });
}

class MsrpSession implements ImSession {
  private readonly mode: [Mode, Mode] = ['head', 'head'];
  private readonly cur: [Current | null, Current | null] = [null, null];
  private readonly pending: [Map<string, PendingMessage>, Map<string, PendingMessage>] = [new Map(), new Map()];
  private readonly tx: [Map<string, string>, Map<string, string>] = [new Map(), new Map()];
  private readonly context: MsrpContext | null;
  private readonly ended: [boolean, boolean] = [false, false];
  /** Resynchronising inside a line longer than MAX_LINE. */
  private readonly midLine: [boolean, boolean] = [false, false];
  private frames = 0;
  private invalidCount = 0;
  private dead = false;
  private confirmed = false;
  private sawText = false;
  private sawFile = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: MsrpLimits,
  ) {
    this.context = asMsrpContext(ctx.expected);
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    const e = off + len;
    let at = off;
    while (at < e && !this.dead) {
      const mode = this.mode[dir];
      if (mode === 'body') {
        const cur = this.cur[dir]!;
        const r = scanBody(data, at, e, cur.pattern);
        if (!r.done) {
          this.deliver(cur, data, at, r.safe, ts);
          return r.safe - off;
        }
        this.deliver(cur, data, at, r.dataEnd, ts);
        this.endFrame(dir, r.flag, ts);
        at = r.next;
        continue;
      }
      if (data[at] === 0x0d || data[at] === 0x0a) {
        at++;
        continue;
      }
      if (mode === 'resync') {
        const i = data.subarray(at, e).indexOf(0x0a);
        if (i < 0) {
          if (e - at <= MAX_LINE && !this.midLine[dir]) return at - off;
          this.midLine[dir] = true; // too long for a start line: the rest of it is skipped as it comes
          return e - off;
        }
        const lf = at + i;
        if (this.midLine[dir]) {
          this.midLine[dir] = false;
          at = lf + 1;
          continue;
        }
        if (parseStartLine(latin1(data, at, lf > at && data[lf - 1] === 0x0d ? lf - 1 : lf)) !== null) this.mode[dir] = 'head';
        else at = lf + 1;
        continue;
      }
      const r = readHead(data, at, e, this.limits.maxHeaderBytes);
      if (r.st === 'need') return at - off;
      if (r.st === 'bad') {
        this.invalid(dir, r.detail, ts);
        const i = data.subarray(at, Math.min(e, at + this.limits.maxHeaderBytes)).indexOf(0x0a);
        this.mode[dir] = 'resync';
        if (i < 0) {
          // No line end within the limit: skip that much, then the rest of the line as it comes.
          at = Math.min(e, at + this.limits.maxHeaderBytes);
          this.midLine[dir] = true;
        } else at += i + 1;
        continue;
      }
      this.frames++;
      at = r.next;
      this.startFrame(dir, r.head, ts);
      if (r.body) this.mode[dir] = 'body';
      else this.endFrame(dir, r.flag, ts);
    }
    return e - off;
  }

  private invalid(dir: Dir, detail: string, ts: Time): void {
    if (this.frames === 0 && !this.confirmed) {
      this.dead = true;
      this.ctx.reject(`not MSRP: ${detail}`);
      return;
    }
    this.ctx.anomaly(ts, 'msrp_invalid_frame', `${dir === 0 ? 'client' : 'server'} side: ${detail}`);
    if (++this.invalidCount > this.limits.maxInvalidFrames) {
      this.dead = true;
      this.ctx.reject(`more than ${this.limits.maxInvalidFrames} invalid MSRP frames`);
    }
  }

  /** Who is at the last URI of a To-Path/From-Path: the SIP party when known, else the MSRP URI without transport. */
  private who(path: string | undefined): string | null {
    const uri = lastPathUri(path);
    if (uri === null) return null;
    return partyOf(this.context, parseMsrpUri(uri)?.sessionId ?? null) ?? uri.split(';', 1)[0]!;
  }

  private startFrame(dir: Dir, h: MsrpHead, ts: Time): void {
    const pattern = Buffer.from(`\n-------${h.tid}`, 'latin1');
    const cur: Current = { head: h, msg: null, offset: 0, pattern };
    this.cur[dir] = cur;
    if (!h.request) {
      const other = this.tx[(1 - dir) as Dir];
      const method = other.get(h.tid);
      if (method === undefined) return;
      other.delete(h.tid);
      if (!this.confirmed) {
        this.confirmed = true;
        this.ctx.confirm(1);
      }
      if (h.status >= 300) this.ctx.event(ts, { account: this.who(h.headers.get('from-path')), event: 'failure', target: this.who(h.headers.get('to-path')), detail: `${method} ${h.tid}: ${h.status} ${h.comment}`.trim(), dir });
      return;
    }
    const txs = this.tx[dir];
    if (txs.size >= this.limits.maxTransactions) txs.delete(txs.keys().next().value as string);
    txs.set(h.tid, h.method);
    const sender = this.who(h.headers.get('from-path'));
    const recipient = this.who(h.headers.get('to-path'));
    if (h.method === 'REPORT') {
      const parts = [`message-id ${h.headers.get('message-id') ?? '-'}`, `status ${h.headers.get('status') ?? '-'}`];
      const br = h.headers.get('byte-range');
      if (br !== undefined) parts.push(`byte-range ${br}`);
      this.ctx.event(ts, { account: sender, event: 'report', target: recipient, detail: parts.join(', '), dir });
      return;
    }
    if (h.method !== 'SEND') return;
    const id = h.headers.get('message-id');
    const ct = parseContentType(h.headers.get('content-type') ?? null);
    if (id === undefined) {
      if (ct !== null) this.ctx.anomaly(ts, 'msrp_invalid_frame', `SEND ${h.tid} with a body but no Message-ID: body skipped`);
      return;
    }
    const brText = h.headers.get('byte-range');
    const br = brText === undefined ? { start: 1, end: null, total: null } : parseByteRange(brText);
    if (br === null) {
      this.ctx.anomaly(ts, 'msrp_byte_range_invalid', `SEND ${h.tid} Byte-Range ${JSON.stringify(brText)} is not start-end/total: chunk skipped`);
      return;
    }
    const map = this.pending[dir];
    let msg = map.get(id);
    if (msg === undefined) {
      if (ct === null) return; // a bodiless SEND (RFC 4975 §7.1: opens the session), or a chunk without its type
      const file = !isTextual(ct);
      const sel = file ? (this.context?.file ?? null) : null;
      const filename = dispositionName(h.headers.get('content-disposition')) ?? sel?.name ?? null;
      msg = new PendingMessage({ messageId: id, ct, sender, recipient, filename, size: br.total ?? sel?.size ?? null }, this.ctx, this.limits, ts);
      if (map.size >= this.limits.maxPendingMessages) {
        const [oldId, old] = map.entries().next().value as [string, PendingMessage];
        map.delete(oldId);
        this.ctx.anomaly(ts, 'msrp_pending_exceeded', `more than ${this.limits.maxPendingMessages} MSRP messages being reassembled: ${oldId} given up`);
        this.giveUp(old, ts);
      }
      map.set(id, msg);
    }
    if (++msg.chunks > this.limits.maxChunks) {
      map.delete(id);
      this.ctx.anomaly(ts, 'msrp_chunks_exceeded', `MSRP message ${id} in more than ${this.limits.maxChunks} chunks: given up`);
      this.giveUp(msg, ts);
      return;
    }
    cur.msg = msg;
    cur.offset = br.start - 1;
  }

  private deliver(cur: Current, data: Uint8Array, s: number, e: number, ts: Time): void {
    if (e <= s) return;
    cur.msg?.add(cur.offset, data, s, e, ts);
    cur.offset += e - s;
  }

  private endFrame(dir: Dir, flag: string, ts: Time): void {
    const cur = this.cur[dir];
    this.cur[dir] = null;
    this.mode[dir] = 'head';
    const msg = cur?.msg ?? null;
    if (msg === null || flag === '+') return;
    this.pending[dir].delete(msg.meta.messageId);
    if (flag === '#') {
      this.ctx.event(ts, { account: msg.meta.sender, event: 'aborted', target: msg.meta.recipient, detail: `message-id ${msg.meta.messageId}`, dir });
      if (!msg.text) this.closeFile(msg, ts, false);
      return;
    }
    if (!msg.text) {
      this.closeFile(msg, ts, true);
      return;
    }
    if (msg.damaged) {
      this.ctx.anomaly(ts, 'msrp_message_incomplete', `MSRP message ${msg.meta.messageId} lost bytes in a gap: not recorded`);
      return;
    }
    this.text(dir, msg, ts);
  }

  private text(dir: Dir, msg: PendingMessage, ts: Time): void {
    const bytes = msg.textBytes();
    const r = interpret(msg.meta.ct, bytes, 0, bytes.length);
    if (r.problem !== null) this.ctx.anomaly(ts, 'msrp_cpim_malformed', r.problem);
    const c = r.content;
    const sender = c.sender ?? msg.meta.sender;
    const recipient = c.recipient ?? msg.meta.recipient;
    if (c.kind === 'message') {
      this.sawText = true;
      this.ctx.setKind('chat');
      this.ctx.message(ts, { sender, recipient, body: c.body, body_raw: c.raw, body_format: c.format, kind: 'session', subject: c.subject, dir });
    } else {
      const event = c.kind === 'typing' ? 'typing' : c.kind === 'receipt' ? 'receipt' : 'presence';
      this.ctx.event(ts, { account: sender, event, target: recipient, detail: c.detail, dir });
    }
  }

  private closeFile(msg: PendingMessage, ts: Time, finished: boolean): void {
    msg.closeFile(ts, finished);
    if (!this.sawFile && !this.sawText) this.ctx.setKind('file');
    this.sawFile = true;
  }

  /** A message that will not be completed. */
  private giveUp(msg: PendingMessage, ts: Time): void {
    if (!msg.text) this.closeFile(msg, ts, false);
  }

  onGap(dir: Dir): void {
    // The bytes after a hole start anywhere: look for the next start line; the message in progress lost bytes.
    this.cur[dir]?.msg?.markGap();
    this.cur[dir] = null;
    this.mode[dir] = 'resync';
    this.midLine[dir] = false;
  }

  onEnd(dir: Dir, ts: Time): void {
    if (this.ended[dir]) return;
    this.ended[dir] = true;
    this.cur[dir] = null;
    for (const msg of this.pending[dir].values()) {
      if (msg.text) this.ctx.anomaly(ts, 'msrp_message_incomplete', `MSRP message ${msg.meta.messageId}: its last chunk never came`);
      else this.closeFile(msg, ts, false);
    }
    this.pending[dir].clear();
  }

  finish(ts: Time): void {
    this.onEnd(0, ts);
    this.onEnd(1, ts);
  }
}

/** `attachment; filename="a.jpg"` (RFC 2183) → the file name. */
function dispositionName(v: string | undefined): string | null {
  if (v === undefined) return null;
  const m = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(v);
  return m === null ? null : (m[1] ?? m[2] ?? null);
}

/**
 * A DNS flow: each UDP datagram is a message; over TCP, messages are framed by their 2-byte length (several per
 * segment, or one split across segments: the unconsumed tail is offered again by the dispatcher).
 *
 * Per message: one `dns` row for a query; for a response one row per answer record (up to maxAnswersPerMessage), or
 * one row with null answer columns when it has none. Every A/AAAA answer of a successful response goes to
 * `ctx.resolved` under the name the client asked (the CNAME chain followed back to the question), which fills the
 * name cache later flows inherit their server name from. No `hostName`: a lookup is not use of the app.
 *
 * The first message that parses confirms the flow (0.9). Before that, a message that does not parse rejects it (the
 * probe was wrong); after, it is an anomaly (what and where) and the next message is tried.
 */
import type { Dir, ImSession, SessionContext, Time } from '../../im/types.js';
import type { DnsLimits } from './limits.js';
import {
  Flag,
  HEADER_BYTES,
  TYPE_A,
  TYPE_AAAA,
  TYPE_CNAME,
  headerProblem,
  newProblem,
  newRecord,
  rcodeName,
  rdataText,
  readQuestion,
  readRecord,
  startNames,
  endNames,
  typeName,
  u16,
  type Problem,
} from './parse.js';

type Cell = string | number | boolean | null | Time;

/** A `dns` row with what the message asked; the answer columns null (an answer row sets them). */
function row(ts: Time, id: number, response: boolean, qname: string | null, qtype: string | null, rcode: string | null): Record<string, Cell> {
  return { ts, query_id: id, response, qname, qtype, rcode, answer_name: null, answer_type: null, answer: null, ttl: null };
}

export class DnsSession implements ImSession {
  private messages = 0;
  private confirmed = false;
  private stopped = false;
  /** TCP directions that lost their framing (a gap, a bad length): their bytes are skipped. */
  private lost: [boolean, boolean] = [false, false];
  private readonly p: Problem = newProblem();
  private readonly r = newRecord();
  /** CNAME owner → target pairs of the message being read (flat: owner, target, owner, target…), reused. */
  private readonly cnames: string[] = [];
  /** Address records of the message being read (flat: owner, address, owner, address…) and their TTLs, reused. */
  private readonly addrs: string[] = [];
  private readonly ttls: number[] = [];

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: Readonly<DnsLimits>,
  ) {}

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (this.stopped) return len;
    if (this.ctx.transport === 'udp') {
      this.message(data, off, off + len, ts);
      return len;
    }
    if (this.lost[dir]) return len;
    let at = off;
    const end = off + len;
    while (end - at >= 2 && !this.stopped) {
      const mlen = u16(data, at);
      if (mlen < HEADER_BYTES) {
        this.lost[dir] = true;
        this.bad(ts, 'dns_tcp_length', `TCP length prefix ${mlen} at stream bytes ${at - off} of this chunk is under the ${HEADER_BYTES}-byte header`);
        return len;
      }
      if (end - at - 2 < mlen) break;
      this.message(data, at + 2, at + 2 + mlen, ts);
      at += 2 + mlen;
    }
    return at - off;
  }

  onGap(dir: Dir, _len: number, _ts: Time): void {
    // A hole in a TCP stream loses the framing: the length prefixes after it cannot be found again.
    if (this.ctx.transport === 'tcp') this.lost[dir] = true;
  }

  onEnd(_dir: Dir, _ts: Time): void {}

  finish(_ts: Time): void {}

  /** Before confirmation: not DNS (reject). After: an anomaly. */
  private bad(ts: Time, code: string, detail: string): void {
    if (!this.confirmed) {
      this.stopped = true;
      this.ctx.reject(`not DNS: ${detail}`);
    } else this.ctx.anomaly(ts, code, detail);
  }

  private problem(ts: Time, id: number): void {
    const p = this.p;
    this.bad(ts, p.code ?? 'dns_truncated', `message ${id}: ${p.detail}`);
  }

  private message(buf: Uint8Array, msg: number, end: number, ts: Time): void {
    startNames(buf, msg);
    try {
      this.read(buf, msg, end, ts);
    } finally {
      endNames();
    }
  }

  private read(buf: Uint8Array, msg: number, end: number, ts: Time): void {
    const L = this.limits;
    if (++this.messages > L.maxMessagesPerFlow) {
      this.ctx.anomaly(ts, 'dns_message_limit', `more than ${L.maxMessagesPerFlow} DNS messages on the flow: the rest were not parsed`);
      this.stopped = true;
      this.ctx.done();
      return;
    }
    const h = headerProblem(buf, msg, end);
    if (h !== null) {
      this.bad(ts, end - msg < HEADER_BYTES ? 'dns_truncated' : 'dns_bad_header', h);
      return;
    }
    const id = u16(buf, msg);
    const flags = u16(buf, msg + 2);
    const response = (flags & Flag.QR) !== 0;
    const qd = u16(buf, msg + 4);
    const an = u16(buf, msg + 6);
    const p = this.p;
    const r = this.r;
    let at = msg + HEADER_BYTES;
    let qname: string | null = null;
    let qtype: string | null = null;
    // Answers come after every question: with more questions than the limit they are not looked for.
    const readAll = qd <= L.maxQuestionsPerMessage;
    const nq = readAll ? qd : 1;
    for (let i = 0; i < nq && at >= 0; i++) {
      at = readQuestion(buf, msg, end, at, L.maxPointerJumps, i === 0, r, p);
      if (at >= 0 && i === 0) {
        qname = r.text;
        qtype = typeName(r.type);
      }
    }
    if (at < 0 && qname === null && qd > 0) {
      this.problem(ts, id);
      return;
    }
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm(0.9);
    }
    const rcode = response ? rcodeName(flags & 0xf) : null;
    if (at < 0 || !readAll) {
      // A later question could not be read, or there are too many: the row still says what was asked.
      this.ctx.row('dns', row(ts, id, response, qname, qtype, rcode));
      if (at < 0) this.problem(ts, id);
      else this.ctx.anomaly(ts, 'dns_answer_limit', `message ${id}: ${qd} questions, over the limit of ${L.maxQuestionsPerMessage}; answers not read`);
      return;
    }
    if (!response) {
      this.ctx.row('dns', row(ts, id, response, qname, qtype, rcode));
      return;
    }
    // Answers.
    const cnames = this.cnames;
    const addrs = this.addrs;
    const ttls = this.ttls;
    cnames.length = 0;
    addrs.length = 0;
    ttls.length = 0;
    let rows = 0;
    const take = Math.min(an, L.maxAnswersPerMessage);
    for (let i = 0; i < take; i++) {
      at = readRecord(buf, msg, end, at, L.maxPointerJumps, true, r, p);
      if (at < 0) break;
      const owner = r.text;
      const text = rdataText(buf, msg, end, r, L.maxPointerJumps, L.maxTextChars, p);
      if (text === null) {
        // The record's extent is known: report it and go on with the next one.
        this.problem(ts, id);
        p.code = null;
      }
      const answer = row(ts, id, response, qname, qtype, rcode);
      answer.answer_name = owner;
      answer.answer_type = typeName(r.type);
      answer.answer = text;
      answer.ttl = r.ttl;
      this.ctx.row('dns', answer);
      rows++;
      if (text !== null && (r.cls & 0x7fff) === 1) {
        if (r.type === TYPE_CNAME) cnames.push(owner, text);
        else if (r.type === TYPE_A || r.type === TYPE_AAAA) {
          addrs.push(owner, text);
          ttls.push(r.ttl);
        }
      }
    }
    if (at < 0) this.problem(ts, id);
    else if (an > take) this.ctx.anomaly(ts, 'dns_answer_limit', `message ${id}: ${an} answers, over the limit of ${L.maxAnswersPerMessage}; the rest not read`);
    if (rows === 0) this.ctx.row('dns', row(ts, id, response, qname, qtype, rcode));
    if ((flags & 0xf) === 0) {
      for (let i = 0; i < ttls.length; i++) this.ctx.resolved(ts, this.asked(addrs[2 * i]!, qname), addrs[2 * i + 1]!, ttls[i]!);
    }
    // Authority and additional records are not read: nothing in them is a row, and an answer's extent is all we need.
  }

  /** The name the client asked for an address record's owner: the CNAME chain followed back (bounded). */
  private asked(owner: string, qname: string | null): string {
    const c = this.cnames;
    let name = owner;
    for (let step = 0; step < this.limits.maxCnameChain && name !== qname; step++) {
      let found = -1;
      for (let i = 1; i < c.length; i += 2) {
        if (c[i] === name) {
          found = i - 1;
          break;
        }
      }
      if (found < 0) break;
      name = c[found]!;
    }
    return name;
  }
}

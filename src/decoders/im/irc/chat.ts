/**
 * PRIVMSG and NOTICE (RFC 2812 §3.3): messages to nicks and channels, CTCP inside them (ACTION as a message, other
 * CTCP requests and replies as events) and DCC offers (expected side connections for the `irc-dcc` analyzer).
 * See dcc-offer.ts for the CTCP/DCC references. Used by session.ts; keeps only the bounded DCC bookkeeping.
 */
import type { Dir, SessionContext, Time } from '../types.js';
import { parseCtcp, parseDccOffer, DCC_OFFER_TYPES, type DccOffer } from './dcc-offer.js';
import type { IrcLimits } from './limits.js';
import { type IrcLine } from './parse.js';
import { decodeText, ircLower, param, sameNick } from './text.js';

/** What a DCC connection's session gets as `ctx.expected`. */
export interface DccContext {
  kind: 'send' | 'chat';
  /** File name as offered (SEND); null for CHAT. */
  filename: string | null;
  /** Size in bytes as offered; null when not announced. */
  size: number | null;
  /** Who sends the file (SEND) or offered the chat (CHAT). */
  sender: string | null;
  recipient: string | null;
  /** The address announced in the offer: the side that listens for the connection. */
  offererIp: string;
  /**
   * The offer is the answer to a passive (reverse) offer: the listener is `recipient` (the file's receiver) and the
   * file's sender connects to it, so the file bytes go from the flow's client to its server.
   */
  reverse: boolean;
}

export const DCC_ANALYZER = 'irc-dcc';

/** Services that take passwords in PRIVMSG text (NickServ IDENTIFY, QuakeNet Q AUTH, Undernet X LOGIN…). */
const SERVICES = new Set(['nickserv', 'q', 'x', 'authserv', 'userserv']);
/** The longest name in SERVICES: a longer recipient is not one (its case is not even folded). */
const MAX_SERVICE_CHARS = Math.max(...[...SERVICES].map((n) => n.length));
const SECRET_WORDS = new Set(['IDENTIFY', 'ID', 'LOGIN', 'AUTH', 'REGISTER', 'GHOST', 'RECOVER', 'RELEASE', 'REGAIN', 'SETPASS']);

interface Passive {
  kind: 'send' | 'chat';
  sender: string | null;
  recipient: string | null;
}

const seconds = (t: Time): number => t[0] + t[1] / 1e9;

export class ChatHandler {
  /** Deadlines (capture seconds) of the DCC offers still pending, oldest first; at most maxDccOffers. */
  private readonly pendingDcc: number[] = [];
  private dccOverReported = false;
  /** Passive offers waiting for the peer's answer, by token (insertion order = age). */
  private readonly passive = new Map<string, Passive>();
  /** The server echoes the client's own messages back (IRCv3 echo-message): those echoes are not recorded twice. */
  echoMessage = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: IrcLimits,
  ) {}

  /** A PRIVMSG or NOTICE line. `own` is the client's current nick (null when not known yet). */
  onMessage(dir: Dir, l: IrcLine, notice: boolean, fromPrefix: string | null, own: string | null, ts: Time): void {
    const cmd = notice ? 'NOTICE' : 'PRIVMSG';
    if (l.nparams < 2 || l.pe[0]! === l.ps[0]!) {
      this.ctx.anomaly(ts, 'irc_message_malformed', `${cmd} with ${l.nparams} parameters, needs a target and text`);
      return;
    }
    const sender = dir === 0 ? own : fromPrefix;
    if (dir === 1 && this.echoMessage && sameNick(sender, own)) return;
    // The text is everything after the target, as sent (RFC wants one trailing parameter; some clients omit the ':').
    const buf = l.buf;
    // Most messages have one target: its name is decoded as it is, without a list.
    if (!hasByte(buf, l.ps[0]!, l.pe[0]!, 0x2c /* , */)) {
      this.deliver(dir, l, notice, sender, param(l, 0), ts);
      return;
    }
    for (const recipient of param(l, 0).split(',')) if (recipient.length > 0) this.deliver(dir, l, notice, sender, recipient, ts);
  }

  /** The message of a PRIVMSG or NOTICE line to one of its targets. */
  private deliver(dir: Dir, l: IrcLine, notice: boolean, sender: string | null, recipient: string, ts: Time): void {
    const bs = l.ps[1]!;
    const be = l.pe[l.nparams - 1]!;
    const buf = l.buf;
    if (buf[bs] === 1) this.ctcp(dir, l, bs, be, notice, sender, recipient, ts);
    else if (!notice && startsWithDcc(buf, bs, be)) this.dcc(dir, decodeText(buf, bs + 4, be).text, sender, recipient, ts);
    else this.text(dir, buf, bs, be, notice ? 'notice' : 'privmsg', sender, recipient, ts);
  }

  private text(dir: Dir, buf: Uint8Array, s: number, e: number, kind: string, sender: string | null, recipient: string, ts: Time): void {
    const d = decodeText(buf, s, e);
    let body = d.text;
    let raw = d.raw;
    const secret = redact(recipient, body);
    if (secret !== null) {
      body = secret;
      raw = null;
    }
    this.ctx.message(ts, { sender, recipient, body, body_raw: raw, kind, dir });
  }

  private ctcp(dir: Dir, l: IrcLine, s: number, e: number, notice: boolean, sender: string | null, recipient: string, ts: Time): void {
    const text = decodeText(l.buf, s, e).text;
    const c = parseCtcp(text);
    if (c === null) return;
    if (!notice && c.command === 'ACTION') {
      // The body without the CTCP wrapping: bytes after "\x01ACTION " up to the closing \x01 (if any).
      let end = e;
      for (let i = s + 1; i < e; i++) {
        if (l.buf[i] === 1) {
          end = i;
          break;
        }
      }
      const start = Math.min(end, s + 1 + 'ACTION'.length + 1);
      this.text(dir, l.buf, start, end, 'action', sender, recipient, ts);
      return;
    }
    if (!notice && c.command === 'DCC') {
      this.dcc(dir, c.args, sender, recipient, ts);
      return;
    }
    const detail = c.args.length > 0 ? `${c.command} ${c.args}` : c.command;
    this.ctx.event(ts, { account: sender, event: notice ? 'ctcp_reply' : 'ctcp', target: recipient, detail, dir });
  }

  /** `DCC …` (args: the text after `DCC `). */
  private dcc(dir: Dir, args: string, sender: string | null, recipient: string, ts: Time): void {
    const type = args.trimStart().split(' ', 1)[0]!.toUpperCase();
    if (!DCC_OFFER_TYPES.has(type)) {
      this.ctx.event(ts, { account: sender, event: 'ctcp', target: recipient, detail: `DCC ${args}`, dir });
      return;
    }
    const p = parseDccOffer(args);
    if (!p.ok) {
      this.ctx.anomaly(ts, p.code, p.detail);
      return;
    }
    const o = p.offer;
    const kind = type === 'CHAT' || type === 'SCHAT' ? 'chat' : 'send';
    this.ctx.event(ts, { account: sender, event: 'dcc_offer', target: recipient, detail: offerDetail(o), dir });
    if (type === 'SSEND' || type === 'SCHAT') return; // TLS inside: nothing readable to expect
    if (o.port === 0) {
      this.rememberPassive(o, kind, sender, recipient, ts);
      return;
    }
    let ctxSender = sender;
    let ctxRecipient: string | null = recipient;
    const reverse = o.token !== null;
    if (reverse) {
      // The answer to a passive offer: its sender is the file's receiver, who listens.
      const orig = this.passive.get(o.token!);
      this.passive.delete(o.token!);
      ctxSender = orig?.sender ?? recipient;
      ctxRecipient = orig?.recipient ?? sender;
    }
    const context: DccContext = { kind, filename: kind === 'send' ? o.argument : null, size: o.size, sender: ctxSender, recipient: ctxRecipient, offererIp: o.host, reverse };
    if (!this.admitOffer(ts)) return;
    const ttl = this.limits.dccTtlSeconds;
    this.ctx.expect(ts, { transport: 'tcp', host: o.host, port: o.port, ttl, analyzer: DCC_ANALYZER, context });
    // An offer from behind NAT announces the public address; a tap inside sees the connection to the private one.
    if (dir === 0 && o.host !== this.ctx.clientIp) {
      this.ctx.expect(ts, { transport: 'tcp', host: this.ctx.clientIp, port: o.port, ttl, analyzer: DCC_ANALYZER, context });
    }
  }

  /** Whether one more DCC offer may be expected (pending offers bounded by maxDccOffers). */
  private admitOffer(ts: Time): boolean {
    const now = seconds(ts);
    const q = this.pendingDcc;
    while (q.length > 0 && q[0]! <= now) q.shift();
    const max = this.limits.maxDccOffers;
    if (q.length >= max) {
      if (!this.dccOverReported) {
        this.dccOverReported = true;
        this.ctx.anomaly(ts, 'irc_dcc_offers_exceeded', `DCC offer ${q.length + 1} pending on the flow exceeds ${max}: no connection expected for it`);
      }
      return false;
    }
    this.dccOverReported = false;
    q.push(now + this.limits.dccTtlSeconds);
    return true;
  }

  private rememberPassive(o: DccOffer, kind: 'send' | 'chat', sender: string | null, recipient: string, ts: Time): void {
    if (o.token === null) return; // port 0 without token: nothing to match an answer with
    this.passive.delete(o.token);
    if (this.passive.size >= this.limits.maxPassiveDcc) {
      const oldest = this.passive.keys().next().value as string;
      this.passive.delete(oldest);
      this.ctx.anomaly(ts, 'irc_dcc_offers_exceeded', `passive DCC offer ${this.limits.maxPassiveDcc + 1} waiting for an answer exceeds ${this.limits.maxPassiveDcc}: the oldest is forgotten`);
    }
    this.passive.set(o.token, { kind, sender, recipient });
  }
}

function hasByte(buf: Uint8Array, s: number, e: number, b: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] === b) return true;
  return false;
}

function startsWithDcc(buf: Uint8Array, s: number, e: number): boolean {
  return e - s > 4 && buf[s] === 0x44 && buf[s + 1] === 0x43 && buf[s + 2] === 0x43 && buf[s + 3] === 0x20; // "DCC "
}

function offerDetail(o: DccOffer): string {
  const what = o.type === 'CHAT' || o.type === 'SCHAT' ? o.type : `${o.type} ${JSON.stringify(o.argument)}${o.size !== null ? ` (${o.size} bytes)` : ''}`;
  const where = o.port === 0 ? `passive, token ${o.token ?? '-'}` : `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}${o.token !== null ? `, answer to token ${o.token}` : ''}`;
  return `${what} ${where}${o.turbo ? ', turbo' : ''}`;
}

/** The text with the secret removed when it is a password command to a services bot; null when it is not one. */
function redact(recipient: string, body: string): string | null {
  const at = recipient.indexOf('@');
  const nick = at < 0 ? recipient : recipient.slice(0, at);
  if (nick.length > MAX_SERVICE_CHARS || !SERVICES.has(ircLower(nick))) return null;
  const word = body.trimStart().split(' ', 1)[0]!;
  if (!SECRET_WORDS.has(word.toUpperCase())) return null;
  return `${word} [redacted]`;
}

/**
 * The IRC client-server session: frames lines, decides confirmation, and turns commands and replies into accounts,
 * events and contacts (messages and DCC: chat.ts).
 *
 * Covers the client protocol of RFC 1459 and RFC 2812 (registration PASS/NICK/USER, JOIN/PART/QUIT/KICK/TOPIC/INVITE,
 * NICK changes, replies 001, 332, 353, 381, 43x), IRCv3 CAP (echo-message), SASL (https://ircv3.net/specs/extensions/sasl-3.1,
 * PLAIN's authentication id only) and STARTTLS (https://ircv3.net/specs/deprecated/tls, reply 670), with RPL_LOGGEDIN
 * (900). Lines: parse.ts; sizes: RFC 2812 §2.3 (512 bytes with CRLF) plus the IRCv3 tag section (8191 bytes).
 *
 * The client's nick is only taken as its account when the server agrees (001's target, or the server's echo of a NICK
 * change), since a requested nick may be refused (433 in use, 432 erroneous). When the server's side is never seen,
 * the nicks the client asked for become its accounts at the end.
 */
import type { Dir, ImSession, SessionContext, Time } from '../types.js';
import { ChatHandler } from './chat.js';
import { command, lineEvidence, WEAK } from './detect.js';
import { IRC_LIMITS, type IrcLimits } from './limits.js';
import { newLine, parseLine, prefixNickEnd, type IrcLine, type LineError } from './parse.js';
import { param, prefixNick, sameNick } from './text.js';

const CR = 0x0d;
const LF = 0x0a;
const dirText = (d: Dir): string => (d === 0 ? 'client' : 'server');

/** Why a direction is skipping to its next line end. */
type Skip = null | 'gap' | 'tags' | 'line';

interface PendingNick {
  nick: string;
  ts: Time;
}

/** Membership prefixes of RPL_NAMREPLY (with IRCv3 multi-prefix several may precede a nick), highest first. */
const MEMBER_STATE: Record<string, string> = { '~': 'owner', '&': 'admin', '@': 'op', '%': 'halfop', '+': 'voice' };

export function createIrcSession(ctx: SessionContext, limits: Partial<IrcLimits> = {}): ImSession {
  return new IrcSession(ctx, { ...IRC_LIMITS, ...limits });
}

class IrcSession implements ImSession {
  private readonly line: IrcLine = newLine();
  private readonly chat: ChatHandler;
  // framing, per direction
  private readonly skip: [Skip, Skip] = [null, null];
  private readonly skipped: [number, number] = [0, 0];
  /** The next line may be the tail of a cut one (start of a mid-stream pickup, after a gap): not held against IRC. */
  private readonly resync: [boolean, boolean] = [true, true];
  private readonly evidence: [boolean, boolean] = [false, false];
  private confirmed = false;
  private invalid = 0;
  /** Rejected, violated or encrypted: nothing more is parsed. */
  private stopped = false;
  private rejected = false;
  /** The server refused the registration (ERROR before 001, 464 bad password, 465 banned): a failed login, no account. */
  private refused = false;
  private starttlsAsked = false;
  // identity
  private nick: string | null = null;
  private readonly pendingNicks: PendingNick[] = [];
  private login: string | null = null;
  private realName: string | null = null;
  private server: string | null = null;
  private auth: string | null = null;
  private saslMech: string | null = null;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: IrcLimits,
  ) {
    this.chat = new ChatHandler(ctx, limits);
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    const end = off + len;
    let at = off;
    while (at < end && !this.stopped) {
      // The line's end (first CR or LF) and its first NUL byte, in one pass: parseLine need not read it again.
      let e = -1;
      let nul = -1;
      for (let i = at; i < end; i++) {
        const b = data[i]!;
        if (b > CR) continue;
        if (b === LF || b === CR) {
          e = i;
          break;
        }
        if (b === 0 && nul < 0) nul = i;
      }
      if (this.skip[dir] !== null) {
        if (e < 0) {
          this.skipped[dir] += end - at;
          return len;
        }
        this.skipped[dir] += e - at;
        this.endSkip(dir, ts);
        at = e + 1;
        continue;
      }
      if (dir === 0 && this.starttlsAsked && data[at] === 0x16) {
        // A TLS record right after STARTTLS: the 670 reply was not seen, but the switch evidently happened.
        this.encrypted(ts);
        break;
      }
      if (e < 0) {
        const over = this.overLimit(data, at, end);
        if (over === null) return at - off; // a partial line: offered again with the next bytes
        this.skip[dir] = over;
        this.skipped[dir] = end - at;
        return len;
      }
      const over = this.overLimit(data, at, e);
      if (over !== null) {
        this.skip[dir] = over;
        this.skipped[dir] = e - at;
        this.endSkip(dir, ts);
      } else this.onLine(dir, data, at, e, nul, ts);
      // CR LF is one terminator; a lone CR or LF also ends a line (a split CR|LF yields an empty line, skipped).
      at = data[e] === CR && e + 1 < end && data[e + 1] === LF ? e + 2 : e + 1;
    }
    return this.stopped ? len : at - off;
  }

  onGap(dir: Dir, _len: number, _ts: Time): void {
    // The bytes after a hole start inside some line: skip to its end quietly, and do not hold it against IRC.
    if (this.skip[dir] === null) {
      this.skip[dir] = 'gap';
      this.skipped[dir] = 0;
    }
    this.resync[dir] = true;
  }

  onEnd(dir: Dir, ts: Time): void {
    if (this.skip[dir] !== null) this.endSkip(dir, ts, true);
  }

  finish(ts: Time): void {
    for (const d of [0, 1] as const) if (this.skip[d] !== null) this.endSkip(d, ts, true);
    if (this.rejected || this.nick !== null) return;
    const seen = new Set<string>();
    for (const p of this.pendingNicks) {
      if (seen.has(p.nick)) continue;
      seen.add(p.nick);
      // The server refused the registration (a wrong server password, a ban): a refused login, not an account.
      // Otherwise (one-sided capture, or cut before 001) the nicks asked for are the accounts.
      if (this.refused) this.ctx.event(p.ts, { account: p.nick, event: 'login_refused', target: null, detail: null, dir: 0 });
      else this.emitAccount(p.nick, p.ts);
    }
  }

  // ── framing ──

  /** Which size limit the line (or the part of it seen so far) `data[s, e)` already exceeds, if any. */
  private overLimit(data: Uint8Array, s: number, e: number): Skip {
    let i = s;
    while (i < e && data[i] === 0x20) i++;
    const maxRest = this.limits.maxLineBytes - 2; // the CRLF counts in the 512
    if (i < e && data[i] === 0x40) {
      const maxTags = this.limits.maxTagBytes;
      let sp = i;
      while (sp < e && data[sp] !== 0x20) sp++;
      // The tag section is `@…` and the space after it.
      if (sp - i + 1 > maxTags) return 'tags';
      if (sp === e) return null;
      return e - (sp + 1) > maxRest ? 'line' : null;
    }
    return e - s > maxRest ? 'line' : null;
  }

  private endSkip(dir: Dir, ts: Time, unterminated = false): void {
    const why = this.skip[dir];
    const n = this.skipped[dir];
    this.skip[dir] = null;
    this.skipped[dir] = 0;
    if (why === 'gap' || why === null) return;
    const what = why === 'tags' ? `tag section of a line of ${n} bytes exceeds ${this.limits.maxTagBytes}` : `line of ${n} bytes exceeds ${this.limits.maxLineBytes}`;
    this.ctx.anomaly(ts, 'irc_line_size_exceeded', `${dirText(dir)} ${what}${unterminated ? ' (unterminated)' : ''}`);
  }

  private onLine(dir: Dir, data: Uint8Array, s: number, e: number, nul: number, ts: Time): void {
    const l = this.line;
    const err = parseLine(data, s, e, l, nul);
    if (err === 'empty') return;
    const resync = this.resync[dir];
    this.resync[dir] = false;
    if (err !== null) {
      if (!resync) this.invalidLine(dir, err, e - s, ts);
      return;
    }
    if (!this.confirmed) {
      if (lineEvidence(l) >= WEAK) this.evidence[dir] = true;
      if (this.evidence[0] && this.evidence[1]) {
        this.confirmed = true;
        this.ctx.confirm(1);
      }
    }
    this.dispatch(dir, l, ts);
  }

  private invalidLine(dir: Dir, err: LineError, n: number, ts: Time): void {
    if (!this.confirmed) {
      this.stopped = this.rejected = true;
      this.ctx.reject(`${dirText(dir)} line of ${n} bytes is not IRC (${err.replace('_', ' ')})`);
      return;
    }
    this.invalid++;
    if (this.invalid > this.limits.maxInvalidLines) {
      this.stopped = true;
      this.ctx.reject(`${this.invalid} invalid lines exceed ${this.limits.maxInvalidLines}: the rest of the flow is not parsed`);
      return;
    }
    this.ctx.anomaly(ts, 'irc_invalid_line', `${dirText(dir)} line of ${n} bytes is not IRC (${err.replace('_', ' ')})`);
  }

  private encrypted(ts: Time): void {
    this.stopped = true;
    this.ctx.encrypted('starttls', ts);
  }

  // ── commands ──

  /** The client's nick as it stands (confirmed, else the last one it asked for). */
  private own(): string | null {
    return this.nick ?? this.pendingNicks[this.pendingNicks.length - 1]?.nick ?? null;
  }

  /** The nick of the line's prefix (the server's name when it is one; null without a prefix). */
  private from(l: IrcLine): string | null {
    return l.prefixStart < 0 ? null : prefixNick(l, prefixNickEnd(l));
  }

  /** Who the line is about: the prefix's nick from the server, the client itself when it sends. */
  private who(dir: Dir, l: IrcLine): string | null {
    const from = dir === 1 ? this.from(l) : null;
    return from !== null ? from : this.own();
  }

  private dispatch(dir: Dir, l: IrcLine, ts: Time): void {
    if (this.server === null && dir === 1 && l.prefixStart >= 0) {
      // The first server-looking prefix names the server until 001 says (a bare nick prefix has no dot).
      const nickEnd = prefixNickEnd(l);
      if (nickEnd < 0) {
        const name = prefixNick(l, nickEnd)!;
        if (name.includes('.')) this.setServer(name);
      }
    }
    if (l.numeric >= 0) {
      this.reply(dir, l, l.numeric, ts);
      return;
    }
    // Decoded only by the commands that use them: most lines (MODE, PING, WHO…) need neither.
    switch (command(l)) {
      case 'ERROR':
        // The server closing the link before registration completed: the login was refused.
        if (dir === 1 && this.nick === null) this.refused = true;
        break;
      case 'PRIVMSG':
        this.chat.onMessage(dir, l, false, dir === 1 ? this.from(l) : null, this.own(), ts);
        return;
      case 'NOTICE':
        this.chat.onMessage(dir, l, true, dir === 1 ? this.from(l) : null, this.own(), ts);
        return;
      case 'NICK':
        this.nickCommand(dir, l, dir === 1 ? this.from(l) : null, ts);
        return;
      case 'USER':
        if (dir === 0 && l.nparams >= 1) {
          this.login ??= param(l, 0);
          this.realName = l.nparams >= 4 ? param(l, 3) : param(l, l.nparams - 1);
        }
        return;
      case 'PASS':
        // The password itself is never kept.
        if (dir === 0) this.auth ??= 'password';
        return;
      case 'AUTHENTICATE':
        if (dir === 0) this.authenticate(l);
        return;
      case 'CAP':
        if (dir === 1) this.cap(l);
        return;
      case 'STARTTLS':
        if (dir === 0) this.starttlsAsked = true;
        return;
      case 'JOIN':
        this.join(dir, l, this.who(dir, l), ts);
        return;
      case 'PART': {
        const who = this.who(dir, l);
        for (const ch of param(l, 0).split(',')) {
          if (ch.length > 0) this.ctx.event(ts, { account: who, event: 'part', target: ch, detail: l.nparams > 1 ? param(l, 1) : null, dir });
        }
        return;
      }
      case 'QUIT':
        this.ctx.event(ts, { account: this.who(dir, l), event: 'quit', target: null, detail: l.nparams > 0 ? param(l, 0) : null, dir });
        return;
      case 'KICK':
        this.kick(dir, l, this.who(dir, l), ts);
        return;
      case 'TOPIC':
        if (l.nparams >= 2) this.ctx.event(ts, { account: this.who(dir, l), event: 'topic', target: param(l, 0), detail: param(l, 1), dir });
        return;
      case 'INVITE':
        if (l.nparams >= 2) this.ctx.event(ts, { account: this.who(dir, l), event: 'invite', target: param(l, 1), detail: param(l, 0), dir });
        return;
      default:
        return; // other commands (MODE, PING, WHO…, and server- or network-specific ones): not interpreted
    }
  }

  /** A reply's target (its first parameter), or null. Replies are most of a server's lines (the MOTD alone is dozens): it is decoded only when used. */
  private target(l: IrcLine): string | null {
    return l.nparams > 0 ? param(l, 0) : null;
  }

  private reply(dir: Dir, l: IrcLine, code: number, ts: Time): void {
    switch (code) {
      case 1: {
        // RPL_WELCOME: registration done, under the nick it names
        if (l.prefixStart >= 0 && prefixNickEnd(l) < 0) this.setServer(prefixNick(l, -1)!);
        const t = this.target(l);
        if (t !== null && t !== '*') this.setNick(t, ts);
        this.ctx.event(ts, { account: this.nick, event: 'login', target: this.server, detail: this.auth, dir });
        return;
      }
      case 332: // RPL_TOPIC
        if (l.nparams >= 3) this.ctx.event(ts, { account: null, event: 'topic', target: param(l, 1), detail: param(l, 2), dir });
        break;
      case 353:
        this.names(l, ts);
        return;
      case 381: // RPL_YOUREOPER
        this.ctx.event(ts, { account: this.nick ?? this.target(l), event: 'oper', target: this.server, detail: null, dir });
        break;
      case 464: // ERR_PASSWDMISMATCH
      case 465: // ERR_YOUREBANNEDCREEP
        if (this.nick === null) this.refused = true;
        break;
      case 431: // nick refused (none given, erroneous, in use, collision, unavailable)
      case 432:
      case 433:
      case 436:
      case 437:
        if (this.nick === null && l.nparams >= 2) this.refuseNick(param(l, 1));
        return;
      case 904: // SASL failed, too long, aborted, already done: the next AUTHENTICATE names a mechanism again
      case 905:
      case 906:
      case 907:
        this.saslMech = null;
        return;
      case 670: // RPL_STARTTLS: the next bytes are TLS
        this.encrypted(ts);
        return;
      case 900: // RPL_LOGGEDIN <nick> <nick!user@host> <account> :…
        if (l.nparams >= 3) {
          this.login = param(l, 2);
          if (this.nick !== null) this.emitAccount(this.nick, ts);
        }
        return;
    }
    // Picked up mid-stream: any reply names the client's nick as its first parameter.
    if (this.nick === null && dir === 1 && (code < 400 || code >= 600)) {
      const t = this.target(l);
      if (t !== null && t !== '*' && t.length > 0) this.setNick(t, ts);
    }
  }

  private setServer(name: string): void {
    if (name.length === 0 || name === this.server) return;
    this.server = name;
    this.ctx.setServerName(name);
  }

  private setNick(nick: string, ts: Time): void {
    if (nick === this.nick) return;
    this.nick = nick;
    this.pendingNicks.length = 0;
    this.emitAccount(nick, ts);
  }

  private emitAccount(nick: string, ts: Time): void {
    this.ctx.account(ts, { account: nick, display_name: this.realName, server: this.server, login: this.login, auth: this.auth });
  }

  private nickCommand(dir: Dir, l: IrcLine, from: string | null, ts: Time): void {
    if (l.nparams < 1) return;
    const next = param(l, 0);
    if (dir === 0) {
      // A request: it only counts once the server agrees (001, or its echo of the change).
      if (this.nick !== null) return;
      if (this.pendingNicks.length >= this.limits.maxPendingNicks) {
        const old = this.pendingNicks.shift()!;
        this.ctx.anomaly(ts, 'irc_nicks_exceeded', `unconfirmed nick ${this.limits.maxPendingNicks + 1} requested exceeds ${this.limits.maxPendingNicks}: ${old.nick} forgotten`);
      }
      this.pendingNicks.push({ nick: next, ts });
      return;
    }
    if (from === null) return;
    this.ctx.event(ts, { account: from, event: 'nick', target: null, detail: next, dir });
    if (sameNick(from, this.nick)) {
      this.nick = null; // so that setNick reports the new one
      this.setNick(next, ts);
    }
  }

  private refuseNick(nick: string): void {
    for (let i = this.pendingNicks.length - 1; i >= 0; i--) if (sameNick(this.pendingNicks[i]!.nick, nick)) this.pendingNicks.splice(i, 1);
  }

  private authenticate(l: IrcLine): void {
    if (l.nparams < 1) return;
    const arg = param(l, 0);
    if (arg === '*') {
      this.saslMech = null; // aborted by the client
      return;
    }
    if (this.saslMech === null) {
      // The first AUTHENTICATE of an attempt names the mechanism; the next ones carry its data.
      if (arg === '+') return;
      this.saslMech = arg.toUpperCase();
      this.auth = this.saslMech === 'PLAIN' ? 'sasl_plain' : this.saslMech === 'EXTERNAL' ? 'sasl_external' : this.saslMech.startsWith('SCRAM-') ? 'sasl_scram' : `sasl_${this.saslMech.toLowerCase()}`;
      return;
    }
    // A 400-byte piece is continued in the next AUTHENTICATE: PLAIN that long is not read (the id is not needed).
    if (this.saslMech !== 'PLAIN' || arg === '+' || arg.length >= 400) return;
    // PLAIN is base64("authzid\0authcid\0password"): keep the authentication id, drop the password at once.
    const plain = Buffer.from(arg, 'base64');
    const a = plain.indexOf(0);
    const b = a < 0 ? -1 : plain.indexOf(0, a + 1);
    if (b > a + 1) this.login = plain.subarray(a + 1, b).toString('utf8');
    plain.fill(0);
  }

  private cap(l: IrcLine): void {
    // :server CAP <nick> ACK :cap1 cap2 …
    for (let i = 0; i + 1 < l.nparams; i++) {
      if (param(l, i).toUpperCase() !== 'ACK') continue;
      for (const c of param(l, i + 1).split(' ')) {
        if (c === 'echo-message') this.chat.echoMessage = true;
        if (c === '-echo-message') this.chat.echoMessage = false;
      }
      return;
    }
  }

  private join(dir: Dir, l: IrcLine, who: string | null, ts: Time): void {
    const chans = param(l, 0);
    if (chans === '0') {
      // JOIN 0 leaves every channel (RFC 2812 §3.2.1). Channel keys (parameter 2) are passwords: never kept.
      this.ctx.event(ts, { account: who, event: 'part', target: null, detail: 'all channels (JOIN 0)', dir });
      return;
    }
    for (const ch of chans.split(',')) if (ch.length > 0) this.ctx.event(ts, { account: who, event: 'join', target: ch, detail: null, dir });
  }

  private kick(dir: Dir, l: IrcLine, who: string | null, ts: Time): void {
    if (l.nparams < 2) return;
    const chans = param(l, 0).split(',');
    const users = param(l, 1).split(',');
    const reason = l.nparams > 2 ? param(l, 2) : '';
    const detail = `by ${who ?? '?'}${reason.length > 0 ? `: ${reason}` : ''}`;
    users.forEach((u, i) => {
      if (u.length > 0) this.ctx.event(ts, { account: u, event: 'kick', target: chans.length === users.length ? chans[i]! : chans[0]!, detail, dir });
    });
  }

  /** RPL_NAMREPLY: `<client> <symbol> <channel> :[prefix]nick …` (RFC 1459 servers omit the symbol). */
  private names(l: IrcLine, ts: Time): void {
    if (l.nparams < 3) {
      this.ctx.anomaly(ts, 'irc_names_malformed', `353 with ${l.nparams} parameters, needs 3`);
      return;
    }
    const channel = param(l, l.nparams >= 4 ? 2 : 1);
    const me = param(l, 0);
    const account = this.nick ?? (me !== '*' && me.length > 0 ? me : null);
    if (account === null) return;
    for (const entry of param(l, l.nparams - 1).split(' ')) {
      let i = 0;
      while (i < entry.length && MEMBER_STATE[entry[i]!] !== undefined) i++;
      const bang = entry.indexOf('!', i); // userhost-in-names
      const contact = entry.slice(i, bang < 0 ? entry.length : bang);
      if (contact.length === 0) continue;
      this.ctx.contact(ts, { account, contact, group_name: channel, state: i > 0 ? MEMBER_STATE[entry[0]!]! : 'member' });
    }
  }
}

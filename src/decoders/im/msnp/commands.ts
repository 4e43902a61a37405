/**
 * What MSNP commands mean for the tables: identities and logins (VER, CVR, USR, ANS, 911), notification-server
 * presence (CHG, ILN, NLN, FLN, UUX, UBX), contact lists (LST, LSG, ADC, ADD, ADL, REM, RML), names (PRP MFN, REA),
 * referrals (XFR, RNG), and switchboard participants (CAL, JOI, IRO, BYE); MSG payloads go to mime.ts.
 *
 * Versions: the line shapes differ between MSNP2-7 (`LST trid FL ver idx total email friendly`, `USR … MD5`), MSNP8-9
 * (`LST email friendly lists`, `USR … TWN`), MSNP10-12 (`N=`/`F=`/`C=` tokens), MSNP13-17 (network ids after
 * e-mails, ADL/RML XML, `USR … SSO`) and MSNP18-21 (`1:user@example.com` accounts, endpoint GUIDs): each handler
 * recognises the shapes by their tokens. References: draft-movva-msn-messenger-protocol-00 (MSNP2), hypothetic.org
 * (MSNP7-11), the nina.chat wiki and yellows111's notes (MSNP13-21). Passwords, MD5 hashes, Passport/SSO tickets and
 * switchboard cookies (the secret parameters of USR, ANS, XFR, RNG) are never kept: only how the login went (`auth`).
 */
import type { Dir, SessionContext, Time } from '../types.js';
import type { MsnpLimits } from './limits.js';
import { MsgHandler } from './mime.js';
import { bareEmail, isNumber, latin1, looksLikeEmail, urlDecode } from './parse.js';
import { STATES } from './detect.js';

const STATE_NAMES: Record<string, string> = {
  NLN: 'online', BSY: 'busy', IDL: 'idle', BRB: 'be right back', AWY: 'away', PHN: 'on the phone', LUN: 'out to lunch', HDN: 'invisible', FLN: 'offline',
};
/** Contact list bits (MSNP8+ masks) and names. */
const LISTS: [number, string][] = [[1, 'FL'], [2, 'AL'], [4, 'BL'], [8, 'RL'], [16, 'PL']];
const LIST_NAMES = new Set(['FL', 'AL', 'BL', 'RL', 'PL']);

const listNames = (mask: number): string => LISTS.filter(([b]) => (mask & b) !== 0).map(([, n]) => n).join(',') || String(mask);

function xmlText(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#[0-9]+);/g, (_m, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const n = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return n <= 0x10ffff ? String.fromCodePoint(n) : '';
  });
}

const attr = (s: string, name: string): string | null => new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`).exec(s)?.[1] ?? null;

export class Commands {
  private own: string | null = null;
  private ownName: string | null = null;
  private auth: string | null = null;
  private version: string | null = null;
  private client: string | null = null;
  private loggedIn = false;
  private refused = false;
  private kind: 'ns' | 'sb' | null = null;
  /** Switchboard participants other than the client, with their friendly names. */
  private readonly participants = new Map<string, string | null>();
  private readonly peerAccounts = new Set<string>();
  private readonly groups = new Map<string, string>();
  private readonly msg: MsgHandler;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: MsnpLimits,
  ) {
    this.msg = new MsgHandler(ctx, limits);
  }

  /** One command line's tokens, with its payload `data[ps, pe)` when it has one (ps = pe = -1 otherwise). */
  onCommand(dir: Dir, tok: readonly string[], data: Uint8Array, ps: number, pe: number, ts: Time): void {
    const cmd = tok[0]!;
    switch (cmd) {
      case 'VER':
        if (dir === 1) this.version = tok.slice(2).find((t) => /^MSNP\d+$/.test(t)) ?? this.version;
        this.setKind('ns');
        return;
      case 'CVR':
        if (dir === 0 && tok.length >= 8) this.client = `${tok[6]} ${tok[7]}`;
        this.setKind('ns');
        return;
      case 'USR':
        this.usr(dir, tok, ts);
        return;
      case 'ANS':
        if (dir === 0 && looksLikeEmail(tok[2])) this.identify(bareEmail(tok[2]), 'cookie', 'sb');
        else if (dir === 1 && tok[2] === 'OK') this.loginOk(null, null, ts, dir);
        return;
      case '911':
      case '931':
        if (dir === 1 && !this.loggedIn) {
          this.refused = true;
          this.ctx.event(ts, { account: this.own, event: 'login_refused', target: this.target(), detail: `error ${cmd}`, dir });
        }
        return;
      case 'XFR':
        if (dir === 1 && tok.length >= 4) this.ctx.event(ts, { account: this.own, event: tok[2] === 'SB' ? 'switchboard' : 'redirect', target: tok[3]!, detail: null, dir });
        return;
      case 'RNG':
        // RNG sessid host:port CKI cookie inviter friendly: an invitation to a switchboard (the cookie is not kept).
        if (dir === 1 && tok.length >= 6) this.ctx.event(ts, { account: bareEmail(tok[5]!), event: 'invite', target: this.own, detail: `switchboard ${tok[2]}`, dir });
        return;
      case 'CHG':
        if (dir === 0 && tok.length >= 3) this.ctx.event(ts, { account: this.own, event: 'status', target: null, detail: STATE_NAMES[tok[2]!] ?? tok[2]!, dir });
        return;
      case 'ILN':
      case 'NLN':
      case 'FLN':
        if (dir === 1) this.presence(cmd, tok, ts);
        return;
      case 'OUT':
        this.ctx.event(ts, { account: this.own, event: 'logout', target: this.target(), detail: tok[1] ?? null, dir });
        return;
      case 'PRP':
        if (tok[2] === 'MFN' && tok.length >= 4) this.rename(urlDecode(tok[3]!), ts);
        return;
      case 'REA':
        if (dir === 1 && tok.length >= 5 && this.own !== null && bareEmail(tok[3]!) === this.own) this.rename(urlDecode(tok[4]!), ts);
        return;
      case 'LSG':
        this.lsg(tok, ts);
        return;
      case 'LST':
        if (dir === 1) this.lst(tok, ts);
        return;
      case 'ADC':
      case 'ADD':
        if (dir === 1) this.add(cmd, tok, ts);
        return;
      case 'REM':
        if (dir === 1 && tok.length >= 4) this.ctx.event(ts, { account: this.own, event: 'contact_removed', target: bareEmail(tok[tok.length - 1]!), detail: tok[2]!, dir });
        return;
      case 'ADL':
      case 'RML':
        if (ps >= 0) this.ml(cmd, dir, latin1(data, ps, pe), ts);
        return;
      case 'UUX':
      case 'UBX':
        if (ps >= 0 && pe > ps) this.psm(dir, cmd === 'UUX' ? this.own : bareEmail(tok[1]!), data, ps, pe, ts);
        return;
      case 'CAL':
        if (dir === 0 && looksLikeEmail(tok[2])) this.ctx.event(ts, { account: this.own, event: 'invite', target: bareEmail(tok[2]), detail: null, dir });
        this.setKind('sb');
        return;
      case 'IRO':
        // IRO trid n total email friendly [clientid]: who is already on the switchboard.
        if (dir === 1 && tok.length >= 6) this.join(bareEmail(tok[4]!), urlDecode(tok[5]!), ts, dir);
        return;
      case 'JOI':
        if (dir === 1 && tok.length >= 2) this.join(bareEmail(tok[1]!), tok.length >= 3 ? urlDecode(tok[2]!) : null, ts, dir);
        return;
      case 'BYE':
        if (dir === 1 && tok.length >= 2) {
          const who = bareEmail(tok[1]!);
          this.participants.delete(who);
          this.ctx.event(ts, { account: who, event: 'part', target: null, detail: tok[2] === '1' ? 'idle' : null, dir });
        }
        return;
      case 'MSG':
        if (ps >= 0) this.message(dir, tok, data, ps, pe, ts);
        return;
      default:
        return;
    }
  }

  finish(ts: Time): void {
    // Cut before the server's answer, or one-sided: the identity the client gave is still its account.
    if (!this.loggedIn && !this.refused && this.own !== null) this.emitOwn(ts);
    this.msg.finish(ts);
  }

  // ── identity ──

  private setKind(k: 'ns' | 'sb'): void {
    if (this.kind !== null) return;
    this.kind = k;
    this.ctx.setKind(k === 'ns' ? 'presence' : 'chat');
  }

  private target(): string {
    return this.kind === 'sb' ? 'switchboard' : 'notification';
  }

  private identify(email: string, auth: string, kind: 'ns' | 'sb'): void {
    this.own ??= email;
    this.auth = auth;
    this.setKind(kind);
  }

  private usr(dir: Dir, tok: readonly string[], ts: Time): void {
    const method = tok[2];
    if (dir === 0) {
      // USR trid TWN|MD5|SSO I email (the S step carries the ticket or hash: never kept).
      if ((method === 'TWN' || method === 'MD5' || method === 'SSO' || method === 'CTP') && tok[3] === 'I' && looksLikeEmail(tok[4])) this.identify(bareEmail(tok[4]), method.toLowerCase(), 'ns');
      // Switchboard: USR trid email cookie.
      else if (looksLikeEmail(method)) this.identify(bareEmail(method), 'cookie', 'sb');
      return;
    }
    if (method !== 'OK' || !looksLikeEmail(tok[3])) return;
    // USR trid OK email friendly (MSNP2-7, switchboards), … friendly verified 0 (MSNP8-10), … verified 0 (MSNP11+).
    const friendly = tok.length === 5 || tok.length >= 7 ? urlDecode(tok[4]!) : null;
    this.loginOk(bareEmail(tok[3]), friendly, ts, dir);
  }

  private loginOk(email: string | null, friendly: string | null, ts: Time, dir: Dir): void {
    if (email !== null) this.own = email;
    if (friendly !== null) this.ownName = friendly;
    this.loggedIn = true;
    this.emitOwn(ts);
    const detail = [this.auth, this.version, this.client].filter((x) => x !== null).join(' ');
    this.ctx.event(ts, { account: this.own, event: 'login', target: this.target(), detail: detail.length > 0 ? detail : null, dir });
  }

  private emitOwn(ts: Time): void {
    if (this.own === null) return;
    this.ctx.account(ts, { account: this.own, display_name: this.ownName, server: null, login: null, auth: this.auth, side: 0 });
  }

  private rename(name: string, ts: Time): void {
    this.ownName = name;
    if (this.loggedIn) this.emitOwn(ts);
  }

  // ── notification server ──

  private presence(cmd: string, tok: readonly string[], ts: Time): void {
    // ILN trid state email …, NLN state email …, FLN email …
    let state: string | undefined;
    let who: string | undefined;
    if (cmd === 'ILN') [state, who] = [tok[2], tok[3]];
    else if (cmd === 'NLN') [state, who] = [tok[1], tok[2]];
    else [state, who] = ['FLN', tok[1]];
    if (state === undefined || !STATES.has(state) || !looksLikeEmail(who)) return;
    this.ctx.event(ts, { account: bareEmail(who), event: 'presence', target: this.own, detail: STATE_NAMES[state] ?? state, dir: 1 });
  }

  private psm(dir: Dir, who: string | null, data: Uint8Array, ps: number, pe: number, ts: Time): void {
    const text = new TextDecoder('utf-8').decode(data.subarray(ps, pe));
    const m = /<PSM>([\s\S]*?)<\/PSM>/.exec(text);
    if (!m || m[1]!.length === 0) return;
    this.ctx.event(ts, { account: who, event: 'status_message', target: null, detail: xmlText(m[1]!), dir });
  }

  private lsg(tok: readonly string[], ts: Time): void {
    let id: string | undefined;
    let name: string | undefined;
    if (tok.length >= 7 && isNumber(tok[1])) [id, name] = [tok[5], tok[6]]; // MSNP2-7: LSG trid ver idx total id name 0
    else if (tok.length === 4 && isNumber(tok[1])) [id, name] = [tok[1], tok[2]]; // MSNP8-9: LSG id name 0
    else if (tok.length >= 3) [name, id] = [tok[1], tok[2]]; // MSNP10-12: LSG name guid
    if (id === undefined || name === undefined || this.groups.has(id)) return;
    if (this.groups.size >= this.limits.maxGroups) {
      this.ctx.anomaly(ts, 'msnp_groups_exceeded', `group ${this.groups.size + 1} exceeds ${this.limits.maxGroups}: not kept`);
      return;
    }
    this.groups.set(id, urlDecode(name));
  }

  private groupNames(ids: string | undefined): string | null {
    if (ids === undefined || ids.length === 0) return null;
    const names = ids.split(',').map((g) => this.groups.get(g) ?? g);
    return names.join(',');
  }

  private contact(ts: Time, email: string, group: string | null, state: string): void {
    if (this.own === null) return;
    this.ctx.contact(ts, { account: this.own, contact: bareEmail(email), group_name: group, state });
  }

  private lst(tok: readonly string[], ts: Time): void {
    if (LIST_NAMES.has(tok[2] ?? '') && isNumber(tok[1])) {
      // MSNP2-7: LST trid LIST ver idx total email friendly [groups]
      if (looksLikeEmail(tok[6])) this.contact(ts, tok[6], tok[2] === 'FL' ? this.groupNames(tok[8]) : null, tok[2]!);
      return;
    }
    const n = tok.find((t) => t.startsWith('N='));
    if (n !== undefined) {
      // MSNP10-12: LST N=email [F=friendly] [C=guid] mask [groups]
      const i = tok.findIndex((t, k) => k > 0 && isNumber(t));
      if (i < 0 || !looksLikeEmail(n.slice(2))) return;
      this.contact(ts, n.slice(2), this.groupNames(tok[i + 1]), listNames(Number(tok[i])));
      return;
    }
    // MSNP8-9: LST email friendly mask [groups]
    if (looksLikeEmail(tok[1]) && isNumber(tok[3])) this.contact(ts, tok[1], this.groupNames(tok[4]), listNames(Number(tok[3])));
  }

  private add(cmd: string, tok: readonly string[], ts: Time): void {
    const list = tok[2];
    if (list === undefined || !LIST_NAMES.has(list)) return;
    if (cmd === 'ADD') {
      // ADD trid LIST ver email friendly [group]
      if (looksLikeEmail(tok[4])) this.contact(ts, tok[4], list === 'FL' ? this.groupNames(tok[6]) : null, list);
      return;
    }
    // ADC trid LIST N=email [F=friendly] [C=guid]
    const n = tok.find((t) => t.startsWith('N='));
    if (n !== undefined && looksLikeEmail(n.slice(2))) this.contact(ts, n.slice(2), null, list);
  }

  /** ADL / RML payloads: `<ml><d n="domain"><c n="user" l="3" t="1"/></d></ml>`. */
  private ml(cmd: string, dir: Dir, xml: string, ts: Time): void {
    for (const d of xml.matchAll(/<d\s([^>]*)>([\s\S]*?)<\/d>/g)) {
      const domain = attr(d[1]!, 'n');
      if (domain === null) continue;
      for (const c of d[2]!.matchAll(/<c\s([^>]*?)\/?>/g)) {
        const user = attr(c[1]!, 'n');
        if (user === null) continue;
        const email = `${xmlText(user)}@${xmlText(domain)}`;
        const l = Number(attr(c[1]!, 'l') ?? '0');
        if (cmd === 'RML') this.ctx.event(ts, { account: this.own, event: 'contact_removed', target: email, detail: listNames(l), dir });
        else this.contact(ts, email, null, listNames(l));
      }
    }
  }

  // ── switchboard ──

  private join(email: string, friendly: string | null, ts: Time, dir: Dir): void {
    this.setKind('sb');
    if (email === this.own) return;
    this.peer(email, friendly, ts);
    this.ctx.event(ts, { account: email, event: 'join', target: null, detail: friendly, dir });
  }

  /** Another user on the switchboard: kept as a participant, and recorded once as an account of the far side. */
  private peer(email: string, friendly: string | null, ts: Time): void {
    if (!this.participants.has(email)) {
      if (this.participants.size >= this.limits.maxParticipants) {
        this.ctx.anomaly(ts, 'msnp_participants_exceeded', `participant ${this.participants.size + 1} exceeds ${this.limits.maxParticipants}: not kept`);
        return;
      }
    }
    const known = this.participants.get(email) ?? null;
    this.participants.set(email, friendly ?? known);
    if (!this.peerAccounts.has(email) || (friendly !== null && friendly !== known)) {
      this.peerAccounts.add(email);
      this.ctx.account(ts, { account: email, display_name: friendly ?? known, server: null, login: null, auth: null, side: 1 });
    }
  }

  private message(dir: Dir, tok: readonly string[], data: Uint8Array, ps: number, pe: number, ts: Time): void {
    let sender: string | null;
    let recipient: string | null;
    if (dir === 0) {
      // MSG trid U|N|A|D len: to everyone else on the switchboard.
      sender = this.own;
      recipient = this.participants.size > 0 ? [...this.participants.keys()].join(',') : null;
    } else {
      // MSG email friendly len (from `Hotmail` on the notification server: profile and mail notices).
      const from = tok[1]!;
      sender = looksLikeEmail(from) ? bareEmail(from) : from;
      recipient = this.own;
      if (this.kind !== 'ns' && looksLikeEmail(from)) this.peer(sender, tok.length >= 4 ? urlDecode(tok[2]!) : null, ts);
    }
    this.msg.onMsg(dir, sender, recipient, data, ps, pe, ts);
  }
}

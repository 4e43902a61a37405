/**
 * What an OSCAR/TOC session knows about the connection's own user (screen name or UIN, how it logged in) and the
 * helpers the SNAC, ICBM, SSI and TOC handlers share. AIM or ICQ is decided by the own name: a numeric UIN is ICQ
 * (`setApp('icq')`), anything else AIM; until the own name is known, the first peer name seen decides.
 */
import type { Dir, SessionContext, Time } from '../types.js';
import type { OscarLimits } from './limits.js';
import { isUin } from './wire.js';

/** A rendezvous file offer as announced (rendezvous.ts). */
export interface FileOffer {
  filename: string | null;
  size: number | null;
  files: number | null;
  sender: string | null;
  recipient: string | null;
}

export class OscarState {
  /** The connection's own screen name or UIN, when known. */
  own: string | null = null;
  /** How it authenticated: cookie (BOS sign-on), md5, roasted_password. Never the secret. */
  auth: string | null = null;
  loggedIn = false;
  /** Rendezvous file offers by cookie (insertion order = age), bounded by maxOffers (rendezvous.ts). */
  readonly offers = new Map<string, FileOffer>();
  /** Buddy-list groups by group id (ssi.ts). */
  readonly groups = new Map<number, string>();
  /** Contacts found before the own name was known: written when it is (or at the end). */
  private readonly pendingContacts: { ts: Time; contact: string; group: string | null; state: string | null }[] = [];
  private appFromOwn = false;
  private appSet = false;

  constructor(
    readonly ctx: SessionContext,
    readonly limits: OscarLimits,
  ) {}

  /** The own name became known (sign-on TLV 1, login reply, self info, toc_signon). */
  setOwn(name: string, ts: Time): void {
    if (name.length === 0) return;
    const changed = this.own !== name;
    this.own = name;
    if (!this.appFromOwn || changed) {
      this.appFromOwn = this.appSet = true;
      this.ctx.setApp(isUin(name) ? 'icq' : 'aim');
    }
    this.ctx.account(ts, { account: name, auth: this.auth, side: 0 });
    this.flushContacts(name);
  }

  /** A contact on the own list (buddy list, permit/deny list). */
  contact(ts: Time, contact: string, group: string | null, state: string | null): void {
    if (this.own !== null) this.ctx.contact(ts, { account: this.own, contact, group_name: group, state });
    else if (this.pendingContacts.length < this.limits.maxSsiItems) this.pendingContacts.push({ ts, contact, group, state });
  }

  /** Contacts still waiting for the own name: written with `account` (the own name, or '' when never known). */
  flushContacts(account: string): void {
    for (const c of this.pendingContacts) this.ctx.contact(c.ts, { account, contact: c.contact, group_name: c.group, state: c.state });
    this.pendingContacts.length = 0;
  }

  setAuth(auth: string, ts: Time): void {
    this.auth = auth;
    if (this.own !== null) this.ctx.account(ts, { account: this.own, auth, side: 0 });
  }

  /** A peer's name: decides AIM or ICQ while the own name is unknown. */
  peer(name: string): string {
    if (!this.appSet && name.length > 0) {
      this.appSet = true;
      this.ctx.setApp(isUin(name) ? 'icq' : 'aim');
    }
    return name;
  }

  /** The login was accepted (once per connection). */
  login(ts: Time): void {
    if (this.loggedIn) return;
    this.loggedIn = true;
    this.ctx.event(ts, { account: this.own, event: 'login', target: null, detail: this.auth, dir: 1 });
  }

  event(ts: Time, dir: Dir, account: string | null, event: string, target: string | null, detail: string | null): void {
    this.ctx.event(ts, { account, event, target, detail, dir });
  }

  anomaly(ts: Time, code: string, detail: string): void {
    this.ctx.anomaly(ts, code, detail);
  }
}

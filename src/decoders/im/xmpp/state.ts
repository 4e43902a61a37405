/**
 * What one XMPP flow has learnt so far, shared by the session (streams, TLS, SASL, dialback), the stanza handlers
 * and the file-transfer tracker: the stream kind (c2s, s2s), the domains, the client's JIDs and how it
 * authenticated, the replies it waits for, and the per-flow anomaly budget.
 *
 * References: RFC 6120 §6 (SASL), §7 (resource binding), §9.1 (s2s); XEP-0078 (jabber:iq:auth), XEP-0220 (dialback).
 */
import type { Dir, SessionContext, Time } from '../types.js';
import { bareJid, domainOf } from './jid.js';
import type { XEl } from './parse.js';
import type { XmppLimits } from './schema.js';

/** A reply the flow waits for, by iq id. */
export type PendingIq = { kind: 'auth'; username: string; resource: string | null; auth: string } | { kind: 'si'; sid: string };

export class XmppState {
  /** jabber:server streams (server-to-server). */
  s2s = false;
  /** The domain served (c2s: the `to` of the client's stream header). */
  domain: string | null = null;
  /** The client's full JID after resource binding (or legacy auth). */
  bound: string | null = null;
  /** SASL or legacy-auth details. */
  login: string | null = null;
  auth: string | null = null;
  /** A JID the client asked to act as (SASL authzid). */
  authzid: string | null = null;
  authenticated = false;
  displayName: string | null = null;
  /** The account row was reported (with this display name). */
  private reported: string | null = null;
  private reportedName: string | null = null;
  private firstTs: Time | null = null;
  // s2s: the two domains and how the initiating one authenticated.
  originDomain: string | null = null;
  originTs: Time | null = null;
  originAuth: string | null = null;
  receivingDomain: string | null = null;
  receivingTs: Time | null = null;
  readonly rooms = new Set<string>();
  readonly pendingIq = new Map<string, PendingIq>();
  private readonly anomalies = new Map<string, number>();

  constructor(
    readonly ctx: SessionContext,
    readonly limits: XmppLimits,
  ) {}

  /** Report an anomaly, at most maxAnomaliesPerCode times per code (then once `xmpp_anomaly_limit`). */
  anomaly(ts: Time, code: string, detail: string): void {
    const n = (this.anomalies.get(code) ?? 0) + 1;
    this.anomalies.set(code, n);
    const max = this.limits.maxAnomaliesPerCode;
    if (n <= max) this.ctx.anomaly(ts, code, detail);
    else if (n === max + 1) this.anomaly(ts, 'xmpp_anomaly_limit', `${code} reached ${max} on this flow (limit maxAnomaliesPerCode); further ones are not reported`);
  }

  /** The client's own bare JID, as far as known. */
  own(): string | null {
    if (this.bound !== null) return bareJid(this.bound);
    if (this.authzid !== null && this.authzid.includes('@')) return bareJid(this.authzid);
    if (this.login !== null) {
      if (this.login.includes('@')) return bareJid(this.login);
      if (this.domain !== null) return `${this.login}@${this.domain}`;
    }
    return null;
  }

  /** Who sent a stanza: its `from`, or the client itself for what it sends without one (RFC 6120 §8.1.2.1). */
  sender(el: XEl, dir: Dir): string | null {
    return el.attr('from') ?? (dir === 0 && !this.s2s ? (this.bound ?? this.own()) : null);
  }

  /** Who a stanza goes to: its `to`, or the client when the server delivers one without it. */
  recipient(el: XEl, dir: Dir): string | null {
    return el.attr('to') ?? (dir === 1 && !this.s2s ? (this.bound ?? this.own()) : null);
  }

  /** Keep a reply to wait for; the oldest is forgotten at maxPendingIq. */
  expectIq(id: string | null, p: PendingIq): void {
    if (id === null) return;
    if (this.pendingIq.size >= this.limits.maxPendingIq) {
      const oldest = this.pendingIq.keys().next().value;
      if (oldest !== undefined) this.pendingIq.delete(oldest);
    }
    this.pendingIq.set(id, p);
  }

  /** The client authenticated (SASL success or legacy auth result). */
  authenticatedAt(ts: Time): void {
    this.authenticated = true;
    this.firstTs ??= ts;
  }

  /** Resource binding (or legacy auth) gave the full JID: the account is known. */
  bind(jid: string, ts: Time): void {
    this.bound = jid;
    this.firstTs ??= ts;
    this.reportAccount(ts);
  }

  setDisplayName(name: string, ts: Time): void {
    const n = name.trim();
    if (n === '' || n === this.displayName) return;
    this.displayName = n;
    if (this.reported !== null) this.reportAccount(ts);
  }

  /** The c2s account row: once when known, again when the display name changes. */
  reportAccount(ts: Time): void {
    const account = this.own();
    if (account === null || this.s2s) return;
    if (this.reported === account && this.reportedName === this.displayName) return;
    this.reported = account;
    this.reportedName = this.displayName;
    this.ctx.account(this.firstTs ?? ts, {
      account,
      display_name: this.displayName,
      server: domainOf(account),
      login: this.login,
      auth: this.auth,
      side: 0,
    });
  }

  /** At the end: an authenticated client never bound, or the s2s domains. */
  finish(ts: Time): void {
    if (!this.s2s) {
      if (this.authenticated && this.reported === null) this.reportAccount(ts);
      return;
    }
    if (this.originDomain !== null) {
      this.ctx.account(this.originTs ?? ts, { account: this.originDomain, server: this.originDomain, auth: this.originAuth, side: 0 });
    }
    if (this.receivingDomain !== null && this.receivingDomain !== this.originDomain) {
      this.ctx.account(this.receivingTs ?? ts, { account: this.receivingDomain, server: this.receivingDomain, side: 1 });
    }
  }
}

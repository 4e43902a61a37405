/**
 * The XMPP session of one TCP flow: client-to-server (jabber:client) and server-to-server (jabber:server) streams,
 * RFC 6120 (2011) with the older pre-RFC forms still seen (streams without version, legacy jabber:iq:auth).
 *
 * Each direction has its own stream reader; stanzas go to the handlers in `stanzas.ts`, stream-level elements are
 * handled here:
 * - stream headers: the kind of stream, the domain (`ctx.setServerName`: the `to` of the initiator's header), and the
 *   confirmation (a header or a stanza from each side: RFC 6120 §4.2–4.3);
 * - STARTTLS (RFC 6120 §5): `<starttls/>`, then `<proceed/>` or the client's TLS ClientHello → `ctx.encrypted`, and
 *   nothing after it is parsed;
 * - SASL (RFC 6120 §6): mechanism, identity (never the secret), success or failure;
 * - server dialback (XEP-0220 1.1.1): `db:result` / `db:verify` requests and their verdicts (the keys are not kept);
 * - stream errors (RFC 6120 §4.9).
 * Before confirmation, non-XML from a side means "not XMPP" (reject); after it, an anomaly.
 */
import type { Dir, ImSession, SessionContext, Time } from '../types.js';
import { domainOf } from './jid.js';
import { XmppStreamReader, type XEl } from './parse.js';
import { saslAuthLabel, saslIdentity } from './sasl.js';
import { isStanzaNs, NS, XMPP_LIMITS, type XmppLimits } from './schema.js';
import { onIq, onMessage, onPresence } from './stanzas.js';
import { XmppState } from './state.js';
import { Transfers } from './transfers.js';

const enum Phase {
  Active,
  Encrypted,
  Rejected,
}

/** Subtrees never needed for rows: avatars and photos (base64 images), encrypted payloads, bits of binary. */
const SKIP_NS = new Set(['urn:xmpp:avatar:data', 'urn:xmpp:bob', 'jabber:x:encrypted', 'jabber:x:signed', 'eu.siacs.conversations.axolotl', 'urn:xmpp:openpgp:0']);

export class XmppSession implements ImSession {
  private readonly st: XmppState;
  private readonly tr: Transfers;
  private readonly readers: [XmppStreamReader, XmppStreamReader];
  private phase = Phase.Active;
  private confirmed = false;
  private confidence = 0;
  /** Evidence per side: 2 a stream header, 1 a stanza or stream element, 0 nothing yet. */
  private readonly evidence: [number, number] = [0, 0];
  /** The client asked for STARTTLS: its next bytes may be a TLS record. */
  private tlsNext = false;
  private mechanism: string | null = null;

  constructor(
    private readonly ctx: SessionContext,
    limits: XmppLimits = XMPP_LIMITS,
  ) {
    this.st = new XmppState(ctx, limits);
    this.tr = new Transfers(this.st);
    this.readers = [this.reader(0, limits), this.reader(1, limits)];
  }

  private reader(dir: Dir, limits: XmppLimits): XmppStreamReader {
    return new XmppStreamReader(limits, {
      streamOpen: (h, ts) => this.streamOpen(h, dir, ts),
      streamClose: () => {},
      stanza: (el, ts) => this.stanza(el, dir, ts),
      junk: (first, at, ts) => this.junk(first, at, dir, ts),
      anomaly: (code, detail, ts) => this.st.anomaly(ts, code, detail),
      skipSubtree: (local, ns) => SKIP_NS.has(ns) || (ns === NS.vcard && local === 'PHOTO'),
    });
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (this.phase !== Phase.Active) return len;
    const end = off + len;
    let pos = off;
    while (pos < end) {
      // Right after <starttls/>: the client going on with TLS (its <proceed/> not seen, or not handled yet).
      if (this.tlsNext && dir === 0) {
        if (data[pos] === 0x16 && end - pos < 3) return pos - off;
        this.tlsNext = false;
        if (data[pos] === 0x16 && data[pos + 1] === 0x03) {
          this.goEncrypted(ts);
          return len;
        }
      }
      const r = this.readers[dir];
      pos += r.feed(data, pos, end - pos, ts);
      if (this.phase !== Phase.Active) return len;
      if (!r.stop) break;
    }
    return pos - off;
  }

  onGap(dir: Dir, _len: number, _ts: Time): void {
    // The bytes after a hole do not continue the token that was cut: start again at the next "<".
    this.readers[dir].reset();
  }

  onEnd(_dir: Dir, _ts: Time): void {}

  finish(ts: Time): void {
    this.tr.finish(ts);
    this.st.finish(ts);
  }

  // ── confirmation ──

  private evidenceFrom(dir: Dir, level: number): void {
    if (this.evidence[dir] < level) this.evidence[dir] = level;
    if (this.evidence[0] > 0 && this.evidence[1] > 0) {
      // Both stream headers: certain; stanzas picked up mid-stream: a little less.
      const c = this.evidence[0] === 2 && this.evidence[1] === 2 ? 1 : 0.9;
      if (c > this.confidence) this.ctx.confirm(c); // once, and again only to raise it
      this.confidence = Math.max(this.confidence, c);
      this.confirmed = true;
    }
  }

  private junk(first: number, at: number, dir: Dir, ts: Time): void {
    const what = `non-XML text (first byte 0x${first.toString(16)}) outside any stanza from the ${dir === 0 ? 'client' : 'server'} at stream offset ${at}`;
    if (!this.confirmed && this.evidence[dir] === 0) {
      this.phase = Phase.Rejected;
      this.readers[dir].stop = true; // nothing after this is parsed, in this call or later ones
      this.ctx.reject(what);
      return;
    }
    this.st.anomaly(ts, 'xmpp_junk', what);
  }

  private goEncrypted(ts: Time): void {
    this.phase = Phase.Encrypted;
    this.readers[0].stop = this.readers[1].stop = true;
    this.ctx.encrypted('starttls', ts);
  }

  // ── stream level ──

  private streamOpen(h: XEl, dir: Dir, ts: Time): void {
    const st = this.st;
    const ns = h.attr('xmlns') ?? '';
    if (ns !== NS.client && ns !== NS.server && ns !== NS.component) {
      this.st.anomaly(ts, 'xmpp_bad_stream_header', `stream header from the ${dir === 0 ? 'client' : 'server'} with default namespace "${ns.slice(0, 100)}"`);
      return;
    }
    if (ns === NS.server) st.s2s = true;
    const to = h.attr('to');
    const from = h.attr('from');
    if (dir === 0) {
      if (to !== null && to !== '') {
        if (st.domain === null) this.ctx.setServerName(to);
        st.domain ??= to;
        if (st.s2s && st.receivingDomain === null) {
          st.receivingDomain = to;
          st.receivingTs = ts;
        }
      }
      if (st.s2s && from !== null && from !== '' && st.originDomain === null) {
        st.originDomain = from;
        st.originTs = ts;
      }
    } else if (from !== null && from !== '') {
      // The server names itself; the client's `to` wins when both are there (it is what the client asked for).
      if (st.domain === null) {
        st.domain = from;
        this.ctx.setServerName(from);
      }
      if (st.s2s && st.receivingDomain === null) {
        st.receivingDomain = from;
        st.receivingTs = ts;
      }
    }
    this.evidenceFrom(dir, 2);
  }

  private stanza(el: XEl, dir: Dir, ts: Time): void {
    const st = this.st;
    switch (el.ns) {
      case NS.stream:
        this.evidenceFrom(dir, 1);
        if (el.local === 'error') {
          const cond = el.children.find((c) => c.local !== 'text');
          st.ctx.event(ts, { account: null, event: 'stream_error', detail: cond?.local ?? null, dir });
        }
        return;
      case NS.tls:
        this.evidenceFrom(dir, 1);
        this.tls(el, dir, ts);
        return;
      case NS.sasl:
        this.evidenceFrom(dir, 1);
        this.sasl(el, dir, ts);
        return;
      case NS.dialback:
        this.evidenceFrom(dir, 1);
        this.dialback(el, dir, ts);
        return;
      default:
        break;
    }
    if (!isStanzaNs(el.ns)) return; // stream management, client state indication…: nothing to record
    if (el.local === 'message') onMessage(st, this.tr, el, dir, ts);
    else if (el.local === 'presence') onPresence(st, el, dir, ts);
    else if (el.local === 'iq') onIq(st, this.tr, el, dir, ts);
    else return;
    this.evidenceFrom(dir, 1);
  }

  private tls(el: XEl, dir: Dir, ts: Time): void {
    if (el.local === 'starttls' && dir === 0) {
      this.tlsNext = true; // (the dispatcher records the switch itself, with a starttls event, on ctx.encrypted)
      this.readers[0].stop = true; // what follows may be the ClientHello
    } else if (el.local === 'proceed' && dir === 1) {
      this.goEncrypted(ts);
    } else if (el.local === 'failure') {
      this.st.ctx.event(ts, { account: null, event: 'starttls_failed', detail: null, dir });
    }
  }

  private sasl(el: XEl, dir: Dir, ts: Time): void {
    const st = this.st;
    if (dir === 0 && (el.local === 'auth' || el.local === 'response')) {
      if (el.local === 'auth') {
        this.mechanism = el.attr('mechanism') ?? '?';
        st.auth = saslAuthLabel(this.mechanism);
      }
      const mech = this.mechanism ?? '?';
      if (el.local === 'response' && mech.toUpperCase() !== 'DIGEST-MD5') return; // only DIGEST-MD5 names the user in a response
      const id = saslIdentity(mech, el.text);
      if (id === null) {
        st.anomaly(ts, 'xmpp_sasl_bad_payload', `SASL ${el.local} for ${mech} (${el.text.length} characters) could not be read`);
        return;
      }
      if (id.authcid !== null) st.login = id.authcid;
      if (id.authzid !== null) st.authzid = id.authzid;
      return;
    }
    if (dir !== 1) return;
    if (el.local === 'success') {
      st.authenticatedAt(ts);
      if (st.s2s) {
        st.originAuth = st.auth;
        if (st.originDomain === null && st.authzid !== null) st.originDomain = domainOf(st.authzid);
      }
      st.ctx.event(ts, { account: st.s2s ? st.originDomain : st.own(), event: 'login', detail: this.mechanism, dir });
    } else if (el.local === 'failure') {
      const cond = el.children.find((c) => c.local !== 'text');
      st.ctx.event(ts, { account: st.s2s ? st.originDomain : st.own(), event: 'login_failed', detail: [this.mechanism, cond?.local].filter((x) => x != null).join(' ') || null, dir });
    }
  }

  /** XEP-0220: the request carries a key (not kept); the answer carries type valid/invalid. */
  private dialback(el: XEl, dir: Dir, ts: Time): void {
    const st = this.st;
    const from = el.attr('from');
    const to = el.attr('to');
    const type = el.attr('type');
    if (el.local === 'result') {
      // Request: from = originating domain, to = receiving domain; the answer swaps them.
      const origin = type === null ? from : to;
      const receiving = type === null ? to : from;
      if (origin !== null && st.originDomain === null) {
        st.originDomain = origin;
        st.originTs = ts;
      }
      if (receiving !== null && st.receivingDomain === null) {
        st.receivingDomain = receiving;
        st.receivingTs = ts;
      }
      if (type === 'valid' && origin !== null && origin === st.originDomain) st.originAuth = 'dialback';
      st.ctx.event(ts, { account: origin, event: 'dialback', target: receiving, detail: type ?? 'request', dir });
    } else if (el.local === 'verify') {
      st.ctx.event(ts, { account: from, event: 'dialback_verify', target: to, detail: type ?? 'request', dir });
    }
  }
}

/**
 * XMPP stanzas (RFC 6121 and extensions) into rows:
 * - `<message>` (RFC 6121 §5): chat, groupchat, headline, normal (default) with body, subject, thread → messages;
 *   XEP-0071 XHTML-IM body only when there is no plain body (body_format xhtml); XEP-0085 chat states without body →
 *   `chatstate` events; a groupchat subject without body → `topic` (XEP-0045 §8.1); XEP-0280 carbons and XEP-0313
 *   archive results → the forwarded message; MUC mediated (XEP-0045 §7.8.2) and direct (XEP-0249) invitations →
 *   `invite` events.
 * - `<presence>` (RFC 6121 §3–4) → `presence` events (show/status), subscription requests and answers → events of
 *   that name, MUC join/leave (XEP-0045 §7.2, §7.14) → `join`/`part`.
 * - `<iq>`: resource binding (RFC 6120 §7), roster results and pushes (RFC 6121 §2) → contacts, vcard-temp
 *   (XEP-0054) → own display name, legacy jabber:iq:auth (XEP-0078; password and digest never kept), and the file
 *   transfer payloads handed to `Transfers`.
 */
import type { Dir, Time } from '../types.js';
import { bareJid, resourceOf } from './jid.js';
import type { XEl } from './parse.js';
import { NS } from './schema.js';
import type { XmppState } from './state.js';
import type { Transfers } from './transfers.js';

/** The element's child `local` in the stanza's namespace, preferring one without xml:lang (RFC 6121 §5.2.3). */
function pick(el: XEl, local: string): XEl | null {
  let first: XEl | null = null;
  for (const c of el.children) {
    if (c.local !== local || c.ns !== el.ns) continue;
    if (c.attr('xml:lang') === null) return c;
    first ??= c;
  }
  return first;
}

export function onMessage(st: XmppState, tr: Transfers, el: XEl, dir: Dir, ts: Time, forwarded = false): void {
  const type = el.attr('type') ?? 'normal';
  if (type === 'error') return;
  if (!forwarded) {
    for (const c of el.children) {
      const carbon = c.ns.startsWith(NS.carbonsPrefix) && (c.local === 'received' || c.local === 'sent');
      const archived = c.ns.startsWith(NS.mamPrefix) && c.local === 'result';
      if (carbon || archived) {
        const inner = c.child('forwarded', NS.forward)?.child('message') ?? null;
        if (inner !== null) onMessage(st, tr, inner, dir, ts, true);
        return;
      }
    }
  }
  const data = el.child('data', NS.ibb);
  if (data !== null) {
    tr.ibbData(el, data, dir, ts);
    return;
  }
  const sender = st.sender(el, dir);
  const recipient = st.recipient(el, dir);
  const body = pick(el, 'body');
  const subject = pick(el, 'subject')?.text ?? null;
  const thread = pick(el, 'thread')?.text ?? null;
  invitations(st, el, sender, dir, ts);
  if (body !== null) {
    st.ctx.message(ts, { sender, recipient, body: body.text, body_format: 'text', body_raw: body.raw, kind: type, subject, thread, dir });
    return;
  }
  const xhtml = el.child('html', NS.xhtmlIm)?.child('body', NS.xhtml) ?? null;
  if (xhtml !== null) {
    st.ctx.message(ts, { sender, recipient, body: inner(xhtml), body_format: 'xhtml', kind: type, subject, thread, dir });
    return;
  }
  if (subject !== null) {
    if (type === 'groupchat') st.ctx.event(ts, { account: sender, event: 'topic', target: sender === null ? null : bareJid(sender), detail: subject, dir });
    else st.ctx.message(ts, { sender, recipient, body: null, kind: type, subject, thread, dir });
    return;
  }
  const state = el.childNs(NS.chatstates);
  if (state !== null) st.ctx.event(ts, { account: sender, event: 'chatstate', target: recipient, detail: state.local, dir });
}

function invitations(st: XmppState, el: XEl, sender: string | null, dir: Dir, ts: Time): void {
  const invite = el.child('x', NS.mucUser)?.child('invite') ?? null;
  if (invite !== null) {
    // Mediated: the room sends it on behalf of `from` (or the client asks the room to send it `to`).
    const from = invite.attr('from') ?? sender;
    const room = dir === 1 ? sender : st.recipient(el, dir);
    st.ctx.event(ts, { account: from, event: 'invite', target: room === null ? null : bareJid(room), detail: invite.attr('to') ?? invite.childText('reason'), dir });
  }
  const direct = el.child('x', 'jabber:x:conference');
  if (direct !== null) st.ctx.event(ts, { account: sender, event: 'invite', target: direct.attr('jid'), detail: direct.attr('reason'), dir });
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escAttr = (s: string): string => esc(s).replace(/"/g, '&quot;');

/** The XHTML content of an element, markup included (namespace declarations dropped). */
function inner(el: XEl): string {
  let out = esc(el.text);
  for (const c of el.children) {
    let attrs = '';
    for (let i = 0; i < c.attrs.length; i += 2) {
      const n = c.attrs[i]!;
      if (n !== 'xmlns' && !n.startsWith('xmlns:')) attrs += ` ${n}="${escAttr(c.attrs[i + 1]!)}"`;
    }
    out += `<${c.local}${attrs}>${inner(c)}</${c.local}>${esc(c.tail)}`;
  }
  return out;
}

const SUBSCRIPTION = new Set(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']);

export function onPresence(st: XmppState, el: XEl, dir: Dir, ts: Time): void {
  const type = el.attr('type') ?? 'available';
  if (type === 'error' || type === 'probe') return;
  const from = st.sender(el, dir);
  const to = el.attr('to');
  const status = pick(el, 'status')?.text ?? null;
  if (SUBSCRIPTION.has(type)) {
    st.ctx.event(ts, { account: from, event: type, target: to === null ? st.recipient(el, dir) : bareJid(to), detail: status, dir });
    return;
  }
  const nick = el.child('nick', NS.nick)?.text ?? null;
  if (dir === 0 && nick !== null && !st.s2s) st.setDisplayName(nick, ts);
  // XEP-0045: the client joins by sending presence to room/nick with <x xmlns='…muc'/>, leaves with unavailable.
  if (dir === 0 && to !== null && resourceOf(to) !== null) {
    const room = bareJid(to);
    if (type === 'available' && el.child('x', NS.muc) !== null) {
      if (st.rooms.size < st.limits.maxRooms) st.rooms.add(room);
      st.ctx.event(ts, { account: st.own() ?? from, event: 'join', target: room, detail: resourceOf(to), dir });
      return;
    }
    if (type === 'unavailable' && st.rooms.has(room)) {
      st.rooms.delete(room);
      st.ctx.event(ts, { account: st.own() ?? from, event: 'part', target: room, detail: status, dir });
      return;
    }
  }
  const show = pick(el, 'show')?.text.trim() || null;
  const what = type === 'available' ? (show ?? 'available') : type;
  const room = el.child('x', NS.mucUser) !== null && from !== null ? bareJid(from) : null;
  st.ctx.event(ts, { account: from, event: 'presence', target: room ?? to, detail: status === null || status === '' ? what : `${what}: ${status}`, dir });
}

export function onIq(st: XmppState, tr: Transfers, el: XEl, dir: Dir, ts: Time): void {
  const type = el.attr('type');
  const id = el.attr('id');
  if ((type === 'result' || type === 'error') && id !== null) {
    const p = st.pendingIq.get(id);
    if (p !== undefined) {
      st.pendingIq.delete(id);
      if (p.kind === 'si') tr.siReply(el, p.sid);
      else if (type === 'result') {
        st.login = p.username;
        st.auth = p.auth;
        st.authenticatedAt(ts);
        // Without the domain (no stream header seen) the user name alone is all there is.
        const bare = st.domain === null ? p.username : `${p.username}@${st.domain}`;
        const jid = p.resource === null ? bare : `${bare}/${p.resource}`;
        st.ctx.event(ts, { account: bareJid(jid), event: 'login', detail: `jabber:iq:auth ${p.auth}`, dir });
        st.bind(jid, ts);
      } else st.ctx.event(ts, { account: st.domain === null ? p.username : `${p.username}@${st.domain}`, event: 'login_failed', detail: `jabber:iq:auth ${el.child('error')?.children[0]?.local ?? 'error'}`, dir });
    }
  }
  for (const c of el.children) {
    switch (c.ns) {
      case NS.bind:
        if (type === 'result') {
          const jid = c.childText('jid')?.trim() ?? '';
          if (jid !== '') st.bind(jid, ts);
        }
        break;
      case NS.roster:
        if (dir === 1 && (type === 'result' || type === 'set')) roster(st, el, c, ts);
        break;
      case NS.vcard:
        vcard(st, el, c, type, dir, ts);
        break;
      case NS.iqAuth:
        if (dir === 0 && type === 'set') {
          const username = c.childText('username')?.trim() ?? '';
          if (username === '') break;
          // How the secret went (XEP-0078 §3): the value itself is never kept.
          const auth = c.child('password') !== null ? 'password' : c.child('digest') !== null ? 'digest' : c.child('token') !== null ? 'zerok' : 'none';
          st.expectIq(id, { kind: 'auth', username, resource: c.childText('resource')?.trim() || null, auth });
        }
        break;
      case NS.si:
        if (type === 'set' && c.local === 'si') tr.siOffer(el, c, dir, ts);
        break;
      case NS.ibb:
        if (c.local === 'open') tr.ibbOpen(el, c, dir, ts);
        else if (c.local === 'data') tr.ibbData(el, c, dir, ts);
        else if (c.local === 'close') tr.ibbClose(c, ts);
        break;
      case NS.bytestreams:
        if (c.local === 'query') tr.s5bQuery(el, c, dir, ts);
        break;
      case NS.jingle:
        if (c.local === 'jingle' && type === 'set') tr.jingle(el, c, dir, ts);
        break;
      default:
        break;
    }
  }
}

/** Roster items (RFC 6121 §2.1.2): one row per group (one with no group when it has none). */
function roster(st: XmppState, iq: XEl, q: XEl, ts: Time): void {
  const to = iq.attr('to');
  const account = st.own() ?? (to === null ? null : bareJid(to));
  if (account === null) return;
  for (const item of q.children) {
    const jid = item.local === 'item' ? item.attr('jid') : null;
    if (jid === null) continue;
    const state = item.attr('subscription') ?? 'none';
    const groups = item.children.filter((g) => g.local === 'group').map((g) => g.text.trim());
    if (groups.length === 0) groups.push('');
    for (const g of groups) st.ctx.contact(ts, { account, contact: jid, group_name: g === '' ? null : g, state });
  }
}

/** The client's own vCard (fetched without `to`, or published): its full name or nickname. */
function vcard(st: XmppState, iq: XEl, v: XEl, type: string | null, dir: Dir, ts: Time): void {
  if (st.s2s || v.local !== 'vCard') return;
  const from = iq.attr('from');
  const own = st.own();
  const mine = (dir === 1 && type === 'result' && (from === null || (own !== null && bareJid(from) === own))) || (dir === 0 && type === 'set' && iq.attr('to') === null);
  if (!mine) return;
  const name = v.childText('FN') ?? v.childText('NICKNAME');
  if (name !== null) st.setDisplayName(name, ts);
}

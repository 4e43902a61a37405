/**
 * Gadu-Gadu packets → accounts, messages, contacts, events and file-offer rows. Layouts: libgadu's libgadu.h and
 * protocol.h (structs gg_login*, gg_send_msg*, gg_recv_msg*, gg_notify*, gg_status*, gg_new_status*, gg_dcc7_new,
 * gg_userlist_*), Wireshark's packet-gadu-gadu.c, toxygen.net/libgadu/protocol. Versions: GG 4.x to 8.0 packets (and
 * the 10.0 ones that share them).
 *
 * The login's password hash (GG32 or SHA-1 of the password and the server's seed) is never read beyond its type; the
 * UIN the client logs in with becomes its account when the server says LOGIN_OK (or at the end when the server's
 * side is never seen); a refused login is a `login_failed` event.
 */
import type { Dir, SessionContext, Time } from '../types.js';
import type { GaduLimits } from './limits.js';
import { C, hasDescr, LOGINS, R, statusName, u16, u32, uinOf } from './parse.js';
import { cp1250, strEnd, utf8Text } from './text.js';

const CLASS_QUEUED = 0x01;
const CLASS_CTCP = 0x10;
const ATTR_RECIPIENTS = 0x01;
const DCC7_TYPE_VOICE = 1;
const DCC7_TYPE_FILE = 4;
const DCC7_FILENAME_LEN = 255;

interface Entry {
  uin: number;
  status: number;
  descr: string | null;
}

export class GaduHandler {
  private own: string | null = null;
  private requested: string | null = null;
  private requestedTs: Time | null = null;
  private auth: string | null = null;
  private failed = false;
  private readonly contactKeys = new Set<string>();
  private contactsFull = false;
  private readonly unowned: { ts: Time; contact: string; group: string | null; state: string }[] = [];
  /** The unfinished last line of a classic contact-list transfer, per direction. */
  private readonly listTail: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)];

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: GaduLimits,
  ) {}

  me(): string | null {
    return this.own ?? this.requested;
  }

  finish(ts: Time): void {
    for (const d of [0, 1] as const) this.flushList(d, ts);
    if (this.own === null && this.requested !== null && !this.failed) {
      this.ctx.account(this.requestedTs ?? ts, { account: this.requested, auth: this.auth });
      this.flushUnowned();
    }
    if (this.unowned.length > 0) {
      this.ctx.anomaly(ts, 'gadugadu_contacts_unowned', `${this.unowned.length} contact-list entries on a flow whose own number never showed`);
      this.unowned.length = 0;
    }
  }

  packet(dir: Dir, type: number, d: Uint8Array, s: number, e: number, ts: Time): void {
    if (dir === 0) this.client(type, d, s, e, ts);
    else this.server(type, d, s, e, ts);
  }

  private malformed(ts: Time, dir: Dir, what: string, len: number, need: number): void {
    this.ctx.anomaly(ts, 'gadugadu_malformed', `${dir === 0 ? 'client' : 'server'} ${what} of ${len} bytes, needs ${need}`);
  }

  // ── client → server ──

  private client(type: number, d: Uint8Array, s: number, e: number, ts: Time): void {
    const len = e - s;
    const login = LOGINS.get(type);
    if (login !== undefined) {
      if (len < login[0]) return this.malformed(ts, 0, `login 0x${type.toString(16)}`, len, login[0]);
      if (this.own !== null) return;
      if (this.requested === null) this.requestedTs = ts;
      this.requested = String(uinOf(u32(d, s)));
      // How, never what: the hash itself is not read.
      this.auth = login[1] < 0 ? 'gg32' : d[s + login[1]] === 2 ? 'sha1' : d[s + login[1]] === 1 ? 'gg32' : `hash_type_${d[s + login[1]]}`;
      return;
    }
    switch (type) {
      case C.SEND_MSG:
        if (len < 12) return this.malformed(ts, 0, 'SEND_MSG', len, 12);
        return this.message(0, u32(d, s), u32(d, s + 8), d, s, e, s + 12, -1, -1, ts);
      case C.SEND_MSG80:
        if (len < 20) return this.malformed(ts, 0, 'SEND_MSG80', len, 20);
        return this.message(0, u32(d, s), u32(d, s + 8), d, s, e, s + 20, u32(d, s + 12), u32(d, s + 16), ts);
      case C.NEW_STATUS:
      case C.NEW_STATUS80BETA: {
        if (len < 4) return this.malformed(ts, 0, 'NEW_STATUS', len, 4);
        const st = u32(d, s);
        const descr = len > 4 && hasDescr(st) ? (type === C.NEW_STATUS ? cp1250(d, s + 4, strEnd(d, s + 4, e)) : utf8Text(d, s + 4, strEnd(d, s + 4, e)).text) : null;
        return this.presence(0, this.me(), st, descr, ts);
      }
      case C.NEW_STATUS80: {
        if (len < 12) return this.malformed(ts, 0, 'NEW_STATUS80', len, 12);
        const dl = u32(d, s + 8);
        const descr = dl > 0 && dl <= len - 12 ? utf8Text(d, s + 12, s + 12 + dl).text : null;
        return this.presence(0, this.me(), u32(d, s), descr, ts);
      }
      case C.NOTIFY_FIRST:
      case C.NOTIFY_LAST:
        for (let at = s; at + 5 <= e; at += 5) this.contact(ts, String(u32(d, at)), null, contactState(d[at + 4]!));
        return;
      case C.ADD_NOTIFY:
      case C.REMOVE_NOTIFY: {
        if (len < 5) return this.malformed(ts, 0, 'ADD/REMOVE_NOTIFY', len, 5);
        const uin = String(u32(d, s));
        this.ctx.event(ts, { account: this.me(), event: type === C.ADD_NOTIFY ? 'contact_add' : 'contact_remove', target: uin, detail: null, dir: 0 });
        if (type === C.ADD_NOTIFY) this.contact(ts, uin, null, contactState(d[s + 4]!));
        return;
      }
      case C.USERLIST_REQUEST:
        // 0 = PUT (export), 1 = PUT_MORE, 2 = GET (import request: no data).
        if (len >= 1 && d[s]! <= 1) this.userlist(0, d, s + 1, e, ts, false);
        return;
      case C.TYPING_NOTIFY:
        return this.typing(0, d, s, e, ts);
      case C.DCC7_NEW:
        return this.dcc7(0, d, s, e, ts);
    }
  }

  // ── server → client ──

  private server(type: number, d: Uint8Array, s: number, e: number, ts: Time): void {
    const len = e - s;
    switch (type) {
      case R.LOGIN_OK:
      case R.LOGIN_OK80:
      case R.NEED_EMAIL:
        return this.loginOk(ts);
      case R.LOGIN_FAILED:
      case R.LOGIN80_FAILED:
      case R.LOGIN_HASH_TYPE_INVALID:
        this.failed = true;
        this.ctx.event(ts, { account: this.me(), event: 'login_failed', target: null, detail: type === R.LOGIN_HASH_TYPE_INVALID ? 'hash type invalid' : 'login failed', dir: 1 });
        return;
      case R.RECV_MSG:
        if (len < 16) return this.malformed(ts, 1, 'RECV_MSG', len, 16);
        return this.message(1, u32(d, s), u32(d, s + 12), d, s, e, s + 16, -1, -1, ts);
      case R.RECV_MSG80:
      case R.OWN_MESSAGE:
        if (len < 24) return this.malformed(ts, 1, 'RECV_MSG80', len, 24);
        return this.message(1, u32(d, s), u32(d, s + 12), d, s, e, s + 24, u32(d, s + 16), u32(d, s + 20), ts, type === R.OWN_MESSAGE);
      case R.STATUS:
        if (len < 8) return this.malformed(ts, 1, 'STATUS', len, 8);
        return this.presence(1, String(uinOf(u32(d, s))), u32(d, s + 4), len > 8 && hasDescr(u32(d, s + 4)) ? cp1250(d, s + 8, strEnd(d, s + 8, e)) : null, ts);
      case R.STATUS60:
      case R.STATUS77: {
        const fixed = type === R.STATUS60 ? 14 : 18;
        if (len < fixed) return this.malformed(ts, 1, 'STATUS60/77', len, fixed);
        const st = d[s + 4]!;
        return this.presence(1, String(uinOf(u32(d, s))), st, len > fixed && hasDescr(st) ? cp1250(d, s + fixed, strEnd(d, s + fixed, e)) : null, ts);
      }
      case R.STATUS80BETA:
      case R.STATUS80:
      case R.NOTIFY_REPLY80BETA:
      case R.NOTIFY_REPLY80:
        for (const x of this.entries80(d, s, e, ts, type === R.STATUS80 || type === R.STATUS80BETA)) this.presence(1, String(x.uin), x.status, x.descr, ts);
        return;
      case R.NOTIFY_REPLY:
      case R.NOTIFY_REPLY60:
      case R.NOTIFY_REPLY77:
        for (const x of this.entriesOld(type, d, s, e)) this.presence(1, String(x.uin), x.status, x.descr, ts);
        return;
      case R.USERLIST_REPLY:
        // 6 = GET_REPLY (the last part), 4 = GET_MORE_REPLY; 0 and 2 acknowledge an export.
        if (len >= 1 && (d[s] === 6 || d[s] === 4)) this.userlist(1, d, s + 1, e, ts, d[s] === 6);
        return;
      case R.TYPING_NOTIFY:
        return this.typing(1, d, s, e, ts);
      case R.DCC7_NEW:
        return this.dcc7(1, d, s, e, ts);
    }
  }

  // ── login ──

  private loginOk(ts: Time): void {
    if (this.requested === null || this.own !== null) return;
    this.own = this.requested;
    this.ctx.account(ts, { account: this.own, auth: this.auth });
    this.ctx.event(ts, { account: this.own, event: 'login', target: null, detail: this.auth, dir: 1 });
    this.flushUnowned();
  }

  // ── messages ──

  /**
   * A message: `peer` is the recipient (client) or sender (server); the text starts at `t`; `plainOff`/`attrOff` are
   * the 8.0 packets' offsets from the payload's start (-1 for the older packets, whose attributes follow the text).
   */
  private message(dir: Dir, peerUin: number, cls: number, d: Uint8Array, s: number, e: number, t: number, plainOff: number, attrOff: number, ts: Time, own = false): void {
    const peer = String(peerUin);
    const me = this.me();
    const sender = dir === 0 ? me : peer;
    const recipient = dir === 0 ? peer : me;
    if (cls & CLASS_CTCP) {
      // A client-to-client request (GG 6 direct connection), not text for a person.
      this.ctx.event(ts, { account: sender, event: 'dcc_request', target: recipient, detail: null, dir });
      return;
    }
    const te = strEnd(d, t, e);
    let body: string;
    let raw: Uint8Array | null = null;
    let format = 'text';
    let attrs = te + 1;
    if (plainOff < 0) body = cp1250(d, t, te);
    else {
      const ps = s + plainOff;
      const as = s + attrOff;
      if (plainOff > e - s || attrOff > e - s || ps < t) this.malformed(ts, dir, 'message offsets', e - s, Math.max(plainOff, attrOff));
      if (te > t) {
        const u = utf8Text(d, t, te);
        body = u.text;
        raw = u.raw;
        format = 'html';
      } else body = ps >= t && ps < e ? cp1250(d, ps, strEnd(d, ps, e)) : '';
      attrs = attrOff > 0 && as <= e ? as : e;
    }
    let kind = dir === 1 && !own && cls & CLASS_QUEUED ? 'offline' : 'chat';
    if (attrs < e && d[attrs] === ATTR_RECIPIENTS) kind = 'conference';
    // GG_OWN_MESSAGE: the account's own message sent from another of its sessions, to the number in the packet.
    this.ctx.message(ts, own ? { sender: me, recipient: peer, body, body_format: format, body_raw: raw, kind, dir: 1 } : { sender, recipient, body, body_format: format, body_raw: raw, kind, dir });
  }

  // ── presence ──

  private presence(dir: Dir, who: string | null, status: number, descr: string | null, ts: Time): void {
    const name = statusName(status);
    this.ctx.event(ts, { account: who, event: 'presence', target: null, detail: descr !== null && descr.length > 0 ? `${name}: ${descr}` : name, dir });
  }

  /** GG_STATUS80 / GG_NOTIFY_REPLY80 entries: uin, status, features, ip, port, image size, unknown, flags, descr_len, descr (UTF-8). */
  private entries80(d: Uint8Array, s: number, e: number, ts: Time, single: boolean): Entry[] {
    const out: Entry[] = [];
    let at = s;
    while (e - at >= 28) {
      const dl = u32(d, at + 24);
      if (dl > e - at - 28) {
        this.malformed(ts, 1, 'status entry', e - at, 28 + dl);
        break;
      }
      out.push({ uin: u32(d, at), status: u32(d, at + 4), descr: dl > 0 ? utf8Text(d, at + 28, at + 28 + dl).text : null });
      at += 28 + dl;
      if (single) break;
    }
    return out;
  }

  /** GG_NOTIFY_REPLY (20-byte entries), _60 (14) and _77 (18); an entry with a described status is followed by u8 length + CP1250 text. */
  private entriesOld(type: number, d: Uint8Array, s: number, e: number): Entry[] {
    const size = type === R.NOTIFY_REPLY ? 20 : type === R.NOTIFY_REPLY60 ? 14 : 18;
    const out: Entry[] = [];
    let at = s;
    while (e - at >= size) {
      const status = type === R.NOTIFY_REPLY ? u32(d, at + 4) : d[at + 4]!;
      let next = at + size;
      let descr: string | null = null;
      if (hasDescr(status) && next < e) {
        const dl = d[next]!;
        descr = cp1250(d, next + 1, Math.min(e, next + 1 + dl));
        next = Math.min(e, next + 1 + dl);
      }
      out.push({ uin: uinOf(u32(d, at)), status, descr });
      at = next;
    }
    return out;
  }

  private typing(dir: Dir, d: Uint8Array, s: number, e: number, ts: Time): void {
    if (e - s < 6) return this.malformed(ts, dir, 'TYPING_NOTIFY', e - s, 6);
    const other = String(u32(d, s + 2));
    const state = u16(d, s) === 0 ? 'stopped' : 'started';
    this.ctx.event(ts, dir === 0 ? { account: this.me(), event: 'typing', target: other, detail: state, dir } : { account: other, event: 'typing', target: this.me(), detail: state, dir });
  }

  // ── contacts ──

  /** Classic contact-list lines (GG 6/7): `first;last;nick;display;mobile;group;uin;email;…`, CP1250, CRLF or LF. */
  private userlist(dir: Dir, d: Uint8Array, s: number, e: number, ts: Time, last: boolean): void {
    const prev = this.listTail[dir];
    const buf = prev.length > 0 ? Buffer.concat([prev, d.subarray(s, e)]) : d.subarray(s, e);
    let at = 0;
    for (let i = 0; i < buf.length; i++) {
      if (buf[i] !== 0x0a) continue;
      this.userlistLine(buf, at, i, ts);
      at = i + 1;
    }
    if (buf.length - at > this.limits.maxUserlistLineBytes) {
      this.ctx.anomaly(ts, 'gadugadu_userlist_line_exceeded', `contact-list line of ${buf.length - at} bytes exceeds ${this.limits.maxUserlistLineBytes} (limit maxUserlistLineBytes): skipped`);
      at = buf.length;
    }
    this.listTail[dir] = buf.slice(at);
    if (last) this.flushList(dir, ts);
  }

  private flushList(dir: Dir, ts: Time): void {
    const tail = this.listTail[dir];
    this.listTail[dir] = new Uint8Array(0);
    if (tail.length > 0) this.userlistLine(tail, 0, tail.length, ts);
  }

  private userlistLine(buf: Uint8Array, s: number, e: number, ts: Time): void {
    if (e - s > this.limits.maxUserlistLineBytes) {
      this.ctx.anomaly(ts, 'gadugadu_userlist_line_exceeded', `contact-list line of ${e - s} bytes exceeds ${this.limits.maxUserlistLineBytes} (limit maxUserlistLineBytes): skipped`);
      return;
    }
    const f = cp1250(buf, s, e).replace(/\r$/, '').split(';');
    const uin = f[6] ?? '';
    if (!/^[0-9]{1,10}$/.test(uin)) return;
    const group = f[5] ?? '';
    this.contact(ts, uin, group.length > 0 ? group : null, 'buddy');
  }

  private contact(ts: Time, contact: string, group: string | null, state: string): void {
    const own = this.me();
    if (own === null) {
      if (this.unowned.length < this.limits.maxContacts) this.unowned.push({ ts, contact, group, state });
      return;
    }
    const key = `${own}\u0000${contact}\u0000${group ?? ''}\u0000${state}`;
    if (this.contactKeys.has(key)) return;
    if (this.contactKeys.size >= this.limits.maxContacts) {
      if (!this.contactsFull) this.ctx.anomaly(ts, 'gadugadu_contacts_exceeded', `contact ${this.limits.maxContacts + 1} exceeds ${this.limits.maxContacts} (limit maxContacts): later ones are not reported`);
      this.contactsFull = true;
      return;
    }
    this.contactKeys.add(key);
    this.ctx.contact(ts, { account: own, contact, group_name: group, state });
  }

  private flushUnowned(): void {
    for (const c of this.unowned.splice(0)) this.contact(c.ts, c.contact, c.group, c.state);
  }

  // ── file offers ──

  /** GG_DCC7_NEW: id[8], uin_from, uin_to, type, filename[255] (CP1250, NUL-padded), size, size_hi, SHA-1[20]. */
  private dcc7(dir: Dir, d: Uint8Array, s: number, e: number, ts: Time): void {
    const need = 8 + 12 + DCC7_FILENAME_LEN + 8;
    if (e - s < need) return this.malformed(ts, dir, 'DCC7_NEW', e - s, need);
    const from = String(u32(d, s + 8));
    const to = String(u32(d, s + 12));
    const kind = u32(d, s + 16);
    if (kind === DCC7_TYPE_VOICE) {
      this.ctx.event(ts, { account: from, event: 'call_offer', target: to, detail: 'dcc7 voice', dir });
      return;
    }
    if (kind !== DCC7_TYPE_FILE) return;
    const fs = s + 20;
    const name = cp1250(d, fs, strEnd(d, fs, fs + DCC7_FILENAME_LEN));
    const size = u32(d, fs + DCC7_FILENAME_LEN) + u32(d, fs + DCC7_FILENAME_LEN + 4) * 0x100000000;
    this.ctx.event(ts, { account: from, event: 'file_offer', target: to, detail: `name=${name} size=${size} via=dcc7`, dir });
    this.ctx.transfer(ts, { sender: from, recipient: to, filename: name, size, bytes_seen: 0, md5: null, sha256: null, complete: false, path: null, method: 'dcc7' });
  }
}

/** The contact type byte of GG_NOTIFY_*: 0x04 blocked, 0x01 offline to (hidden from) the contact, else a normal buddy. */
function contactState(t: number): string {
  if (t & 0x04) return 'blocked';
  if ((t & 0x03) === 0x01) return 'hidden';
  return 'buddy';
}

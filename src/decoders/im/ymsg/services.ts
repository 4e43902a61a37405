/**
 * YMSG services → accounts, messages, contacts, events and file-offer rows. Service numbers: Wireshark's
 * packet-ymsg.c and libpurple's yahoo_packet.h; keys: libpurple's protocols/yahoo (libymsg.c, yahoochat.c,
 * yahoo_filexfer.c) and libyahoo2's yahoo2.c. Versions: YMSG 9-17.
 *
 * Login (never storing the challenge, the responses of keys 6/96 nor the Y/T cookies and crumb hash 277/278/307):
 *   c2s AUTH 0x57 (1 = id) → s2c AUTH (94 = challenge) → c2s AUTHRESP 0x54 (0/1/2 = id; 6+96 challenge response in
 *   YMSG 10-15, 277+278+307 token login in YMSG 16) → s2c LIST 0x55 / LIST_15 0xF1 / LOGON 0x01 (0/1 = own id) on
 *   success, or s2c AUTHRESP with 66 = error code on failure. The client's id becomes its account when the server
 *   answers with success (or at the end when the server's side is never seen); a refused login is a `login_failed`
 *   event, not an account.
 */
import type { Dir, SessionContext, Time } from '../types.js';
import type { YmsgLimits } from './limits.js';
import { indexOf, type Pairs, type YmsgHeader } from './parse.js';
import { decodeBody, decodeName } from './text.js';

export const SVC = {
  LOGON: 0x01, LOGOFF: 0x02, ISAWAY: 0x03, ISBACK: 0x04, MESSAGE: 0x06,
  CONFINVITE: 0x18, CONFLOGON: 0x19, CONFDECLINE: 0x1a, CONFLOGOFF: 0x1b, CONFADDINVITE: 0x1c, CONFMSG: 0x1d,
  FILETRANSFER: 0x46, NOTIFY: 0x4b, P2PFILEXFER: 0x4d, AUTHRESP: 0x54, LIST: 0x55, AUTH: 0x57,
  ADDBUDDY: 0x83, REMBUDDY: 0x84, CHATJOIN: 0x98, CHATEXIT: 0x9b, COMMENT: 0xa8, STATUS_UPDATE: 0xc6,
  FILETRANS_15: 0xdc, STATUS_15: 0xf0, LIST_15: 0xf1,
} as const;

/** YAHOO_STATUS_* (libpurple libymsg.h) as words. */
const STATUS_NAMES: Record<number, string> = {
  0: 'available', 1: 'brb', 2: 'busy', 3: 'notathome', 4: 'notatdesk', 5: 'notinoffice', 6: 'onphone', 7: 'onvacation',
  8: 'outtolunch', 9: 'steppedout', 12: 'invisible', 99: 'custom', 999: 'idle', 0x5a55aa56: 'offline',
};

/** The header status of a LOGOFF that means "signed on from another location". */
const STATUS_DISCONNECTED = 0xffffffff;

interface Presence {
  who: string;
  status: string | null;
  message: string | null;
}

export class YmsgHandler {
  /** The client's id as the server confirmed it. */
  private own: string | null = null;
  /** The id the client logged in with (before the server's answer). */
  private requested: string | null = null;
  private requestedTs: Time | null = null;
  private auth: string | null = null;
  private loggedIn = false;
  private failed = false;
  private readonly contactKeys = new Set<string>();
  private contactsFull = false;
  /** Buddy-list entries seen before the own id was known (mid-stream pickup). */
  private readonly unowned: { ts: Time; contact: string; group: string | null; state: string }[] = [];

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: YmsgLimits,
  ) {}

  /** The client's id: confirmed, else the one it asked for. */
  me(): string | null {
    return this.own ?? this.requested;
  }

  finish(ts: Time): void {
    if (this.own === null && this.requested !== null && !this.failed) {
      // The server's answer was never seen (one-sided capture, or cut before it): the id asked for is the account.
      this.ctx.account(this.requestedTs ?? ts, { account: this.requested, auth: this.auth });
      this.flushUnowned();
    }
    if (this.unowned.length > 0) {
      this.ctx.anomaly(ts, 'ymsg_contacts_unowned', `${this.unowned.length} buddy-list entries on a flow whose own id never showed`);
      this.unowned.length = 0;
    }
  }

  packet(dir: Dir, h: YmsgHeader, p: Pairs, ts: Time): void {
    switch (h.service) {
      case SVC.AUTH:
        if (dir === 0) this.request(p, [1, 0], ts);
        return;
      case SVC.AUTHRESP:
        if (dir === 0) {
          this.request(p, [0, 1, 2], ts);
          // How, never what: the responses and cookies themselves are not read.
          if (indexOf(p, 277) >= 0 || indexOf(p, 307) >= 0) this.auth = 'token';
          else if (indexOf(p, 6) >= 0 || indexOf(p, 96) >= 0) this.auth = 'challenge';
        } else {
          const err = indexOf(p, 66);
          if (err >= 0) {
            this.failed = true;
            this.ctx.event(ts, { account: this.me(), event: 'login_failed', target: null, detail: `error ${this.val(p, err)}`, dir });
          }
        }
        return;
      case SVC.LOGON:
        if (dir === 0) {
          this.request(p, [0, 1], ts);
          return;
        }
        this.loginOk(this.first(p, [1, 0]), ts);
        this.presence(dir, h, p, ts, 'available');
        return;
      case SVC.LIST:
      case SVC.LIST_15:
        if (dir === 1) {
          this.loginOk(this.first(p, [1, 0, 3]), ts);
          if (h.service === SVC.LIST) this.list(p, ts);
          else this.list15(p, ts);
        }
        return;
      case SVC.LOGOFF:
        if (dir === 0) {
          this.ctx.event(ts, { account: this.me(), event: 'logout', target: null, detail: null, dir });
          return;
        }
        if (indexOf(p, 7) < 0) {
          if (h.status === STATUS_DISCONNECTED) this.ctx.event(ts, { account: this.me(), event: 'logout', target: null, detail: 'signed on from another location', dir });
          return;
        }
        this.presence(dir, h, p, ts, 'offline');
        return;
      case SVC.ISAWAY:
      case SVC.ISBACK:
      case SVC.STATUS_UPDATE:
      case SVC.STATUS_15:
        this.presence(dir, h, p, ts, null);
        return;
      case SVC.MESSAGE:
        this.messages(dir, p, ts);
        return;
      case SVC.NOTIFY:
        this.notify(dir, p, ts);
        return;
      case SVC.ADDBUDDY:
        if (dir === 0) this.buddyChange(p, ts, true);
        return;
      case SVC.REMBUDDY:
        if (dir === 0) this.buddyChange(p, ts, false);
        return;
      case SVC.FILETRANSFER:
      case SVC.P2PFILEXFER:
      case SVC.FILETRANS_15:
        this.fileOffer(dir, h.service, p, ts);
        return;
      default:
        this.rooms(dir, h.service, p, ts);
    }
  }

  // ── values ──

  private val(p: Pairs, i: number): string {
    return decodeName(p.buf, p.vs[i]!, p.ve[i]!);
  }

  /** The value of the first of `keys` present (in that order of preference), or null. */
  private first(p: Pairs, keys: number[]): string | null {
    for (const k of keys) {
      const i = indexOf(p, k);
      if (i >= 0 && p.ve[i]! > p.vs[i]!) return this.val(p, i);
    }
    return null;
  }

  private all(p: Pairs, key: number): string[] {
    const out: string[] = [];
    for (let i = indexOf(p, key); i >= 0; i = indexOf(p, key, i + 1)) if (p.ve[i]! > p.vs[i]!) out.push(this.val(p, i));
    return out;
  }

  // ── login ──

  private request(p: Pairs, keys: number[], ts: Time): void {
    const id = this.first(p, keys);
    if (id === null || this.own !== null) return;
    if (this.requested === null) this.requestedTs = ts;
    this.requested = id;
  }

  private loginOk(id: string | null, ts: Time): void {
    const who = id ?? this.requested;
    if (who === null) return;
    if (this.own !== who) {
      this.own = who;
      this.ctx.account(ts, { account: who, auth: this.auth });
      this.flushUnowned();
    }
    if (!this.loggedIn) {
      this.loggedIn = true;
      this.ctx.event(ts, { account: who, event: 'login', target: null, detail: this.auth, dir: 1 });
    }
  }

  // ── presence and typing ──

  private presence(dir: Dir, h: YmsgHeader, p: Pairs, ts: Time, fallback: string | null): void {
    const list: Presence[] = [];
    let cur: Presence | null = null;
    for (let i = 0; i < p.n; i++) {
      const k = p.keys[i]!;
      if (k === 7) list.push((cur = { who: this.val(p, i), status: null, message: null }));
      else if (k === 10 || k === 19 || k === 13) {
        // The client's own status change has no key 7: it is about the client.
        if (cur === null && dir === 0) list.push((cur = { who: this.me() ?? '', status: null, message: null }));
        if (cur === null) continue;
        if (k === 10) {
          const n = Number(this.val(p, i));
          cur.status = STATUS_NAMES[n] ?? `status ${n}`;
        } else if (k === 19) cur.message = decodeBody(p.buf, p.vs[i]!, p.ve[i]!, indexOf(p, 97) >= 0).text;
        else if (this.val(p, i) === '0') cur.status = 'offline';
      }
    }
    if (dir === 0 && list.length === 0 && h.service === SVC.ISBACK) list.push({ who: this.me() ?? '', status: 'available', message: null });
    for (const e of list) {
      const status = e.status ?? fallback ?? (h.service === SVC.ISBACK ? 'available' : 'away');
      const detail = e.message !== null && e.message.length > 0 ? `${status}: ${e.message}` : status;
      this.ctx.event(ts, { account: e.who.length > 0 ? e.who : null, event: 'presence', target: null, detail, dir });
    }
  }

  private notify(dir: Dir, p: Pairs, ts: Time): void {
    const what = this.first(p, [49]);
    if (what === null || what.toUpperCase() !== 'TYPING') return;
    const from = dir === 1 ? this.first(p, [4, 1]) : (this.first(p, [1, 4]) ?? this.me());
    const to = this.first(p, [5]);
    const state = this.first(p, [13]);
    this.ctx.event(ts, { account: from, event: 'typing', target: to, detail: state === '0' ? 'stopped' : 'started', dir });
  }

  // ── messages ──

  private messages(dir: Dir, p: Pairs, ts: Time): void {
    // Offline messages come several to a packet, each starting with its sender (key 4; key 1 when the client sends).
    const fromKey = indexOf(p, 4) >= 0 ? 4 : 1;
    let from: string | null = null;
    let to: string | null = null;
    let text = -1;
    let utf8 = false;
    const flush = () => {
      if (text >= 0) {
        const body = decodeBody(p.buf, p.vs[text]!, p.ve[text]!, utf8);
        const sender = from ?? (dir === 0 ? this.me() : null);
        const recipient = to ?? (dir === 1 ? this.me() : null);
        this.ctx.message(ts, { sender, recipient, body: body.text, body_format: 'text', body_raw: body.raw, kind: 'im', dir });
      }
      text = -1;
      utf8 = false;
    };
    for (let i = 0; i < p.n; i++) {
      const k = p.keys[i]!;
      if (k === fromKey) {
        flush();
        from = this.val(p, i);
      } else if (k === 5) to = this.val(p, i);
      else if (k === 14) {
        if (text >= 0) flush();
        text = i;
      } else if (k === 97) utf8 = this.val(p, i) === '1';
    }
    flush();
  }

  // ── buddy lists ──

  /** LIST (0x55): key 87 = `group:buddy,buddy\n…`, key 88 = ignored ids, comma-separated. */
  private list(p: Pairs, ts: Time): void {
    for (const v of this.all(p, 87)) {
      for (const line of v.split('\n')) {
        const c = line.indexOf(':');
        if (c < 0) continue;
        const group = line.slice(0, c);
        for (const b of line.slice(c + 1).split(',')) if (b.length > 0) this.contact(ts, b, group, 'buddy');
      }
    }
    for (const v of this.all(p, 88)) for (const b of v.split(',')) if (b.length > 0) this.contact(ts, b, null, 'ignored');
  }

  /** LIST_15 (0xF1): 65 = group name, 7 = buddy in it; 302 = 320 starts the ignore list; 241 = federated network. */
  private list15(p: Pairs, ts: Time): void {
    let group: string | null = null;
    let ignored = false;
    let pending: string | null = null;
    let fed = '';
    const commit = () => {
      if (pending !== null) this.contact(ts, fed + pending, ignored ? null : group, ignored ? 'ignored' : 'buddy');
      pending = null;
      fed = '';
    };
    for (let i = 0; i < p.n; i++) {
      const k = p.keys[i]!;
      if (k === 7) {
        commit();
        pending = this.val(p, i);
      } else if (k === 241) {
        // libpurple: 2 = MSN (Windows Live), 9 = OCS, 10 = IBM, 11 = PBX; shown as a network prefix.
        fed = ({ '2': 'msn/', '9': 'ocs/', '10': 'ibm/', '11': 'pbx/' } as Record<string, string>)[this.val(p, i)] ?? '';
      } else if (k === 65) {
        commit();
        group = this.val(p, i);
      } else if (k === 302 && this.val(p, i) === '320') {
        commit();
        ignored = true;
      } else if (k === 301 || k === 300 || k === 303) commit();
    }
    commit();
  }

  private buddyChange(p: Pairs, ts: Time, add: boolean): void {
    const buddy = this.first(p, [7]);
    if (buddy === null) return;
    const group = this.first(p, [65]);
    this.ctx.event(ts, { account: this.first(p, [1]) ?? this.me(), event: add ? 'contact_add' : 'contact_remove', target: buddy, detail: group, dir: 0 });
    if (add) this.contact(ts, buddy, group, 'added');
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
      if (!this.contactsFull) this.ctx.anomaly(ts, 'ymsg_contacts_exceeded', `contact ${this.limits.maxContacts + 1} exceeds ${this.limits.maxContacts} (limit maxContacts): later ones are not reported`);
      this.contactsFull = true;
      return;
    }
    this.contactKeys.add(key);
    this.ctx.contact(ts, { account: own, contact, group_name: group, state });
  }

  private flushUnowned(): void {
    const list = this.unowned.splice(0);
    for (const c of list) this.contact(c.ts, c.contact, c.group, c.state);
  }

  // ── conferences and chat rooms ──

  private rooms(dir: Dir, service: number, p: Pairs, ts: Time): void {
    const me = this.me();
    switch (service) {
      case SVC.CONFINVITE:
      case SVC.CONFADDINVITE: {
        const room = this.first(p, [57]);
        const from = dir === 1 ? this.first(p, [50]) : (this.first(p, [1]) ?? me);
        const invitees = dir === 0 ? [...this.all(p, 52), ...this.all(p, 51)] : [];
        this.ctx.event(ts, { account: from, event: 'invite', target: room, detail: invitees.length > 0 ? invitees.join(',') : this.first(p, [58]), dir });
        return;
      }
      case SVC.CONFLOGON:
      case SVC.CONFLOGOFF:
      case SVC.CONFDECLINE: {
        const room = this.first(p, [57]);
        const event = service === SVC.CONFLOGON ? 'join' : service === SVC.CONFLOGOFF ? 'part' : 'decline';
        const whoKey = service === SVC.CONFLOGON ? 53 : service === SVC.CONFLOGOFF ? 56 : 54;
        const who = dir === 1 ? this.first(p, [whoKey]) : (this.first(p, [1]) ?? me);
        this.ctx.event(ts, { account: who, event, target: room, detail: null, dir });
        return;
      }
      case SVC.CONFMSG: {
        const t = indexOf(p, 14);
        if (t < 0) return;
        const from = dir === 1 ? this.first(p, [3]) : (this.first(p, [1]) ?? me);
        const body = decodeBody(p.buf, p.vs[t]!, p.ve[t]!, this.first(p, [97]) === '1');
        this.ctx.message(ts, { sender: from, recipient: this.first(p, [57]), body: body.text, body_format: 'text', body_raw: body.raw, kind: 'conference', dir });
        return;
      }
      case SVC.CHATJOIN:
      case SVC.CHATEXIT: {
        const room = this.first(p, [104]);
        const event = service === SVC.CHATJOIN ? 'join' : 'part';
        // The server lists the room's members (109) when the client joins, and who left on exit.
        const who = this.all(p, 109);
        if (who.length === 0 && dir === 0) who.push(this.first(p, [1]) ?? me ?? '');
        for (const w of who) this.ctx.event(ts, { account: w.length > 0 ? w : null, event, target: room, detail: null, dir });
        return;
      }
      case SVC.COMMENT: {
        const t = indexOf(p, 117);
        if (t < 0) return;
        const from = this.first(p, [109]) ?? (dir === 0 ? (this.first(p, [1]) ?? me) : null);
        const body = decodeBody(p.buf, p.vs[t]!, p.ve[t]!, this.first(p, [97]) === '1');
        // 124: 1 normal, 2 emote (/me), 3 bubble.
        const kind = this.first(p, [124]) === '2' ? 'chatroom_emote' : 'chatroom';
        this.ctx.message(ts, { sender: from, recipient: this.first(p, [104]), body: body.text, body_format: 'text', body_raw: body.raw, kind, dir });
        return;
      }
    }
  }

  // ── file offers ──

  private fileOffer(dir: Dir, service: number, p: Pairs, ts: Time): void {
    if (service === SVC.FILETRANS_15) {
      // 222: 1 offer, 2 cancel, 3 accept, 4 decline… only offers give rows.
      const cmd = this.first(p, [222]);
      if (cmd !== null && cmd !== '1') return;
    }
    const sender = dir === 1 ? this.first(p, [4]) : (this.first(p, [1, 4]) ?? this.me());
    const recipient = this.first(p, [5]) ?? (dir === 1 ? this.me() : null);
    const method = service === SVC.FILETRANSFER ? 'ymsg_url' : service === SVC.P2PFILEXFER ? 'ymsg_p2p' : 'ymsg_ft15';
    const files: { name: string; size: number | null }[] = [];
    for (let i = 0; i < p.n; i++) {
      if (p.keys[i] === 27) files.push({ name: this.val(p, i), size: null });
      else if (p.keys[i] === 28 && files.length > 0) {
        const n = Number(this.val(p, i));
        files[files.length - 1]!.size = Number.isSafeInteger(n) && n >= 0 ? n : null;
      }
    }
    for (const f of files) {
      this.ctx.event(ts, { account: sender, event: 'file_offer', target: recipient, detail: `name=${f.name} size=${f.size ?? '?'} via=${method}`, dir });
      this.ctx.transfer(ts, { sender, recipient, filename: f.name, size: f.size, bytes_seen: 0, md5: null, sha256: null, complete: false, path: null, method });
    }
  }
}

/**
 * SNAC dispatch for OSCAR channel-2 frames: login (family 0x17), self info (1/0x0F), status (1/0x1E), buddy
 * arrivals and departures (3/0x0B, 3/0x0C) and client-side buddy lists (3/4), ICBM (family 4: icbm.ts) and the
 * server-stored buddy list, SSI (family 0x13).
 *
 * References: AOL's OSCAR documentation (families OSERVICE 1, BUDDY 3, ICBM 4, FEEDBAG 0x13, BUCP 0x17), Shutko's
 * unofficial ICQ/OSCAR docs, Pidgin `family_auth.c`, `family_feedbag.c`, Wireshark `aim_generic`, `aim_buddylist`,
 * `aim_ssi`, `aim_signon`. SSI items: name (u16 length), group id, item id, type (0 buddy, 1 group, 2 permit, 3 deny,
 * 0x0E ignore, others settings), TLVs (0x0066: awaiting authorization). A list reply (0x13/6) may span SNACs: flag
 * 0x0001 says more follow; groups may come after their buddies, so the buddies wait for the last one.
 */
import type { Dir, Time } from '../types.js';
import { onIcbm, onTyping, snacMalformed } from './icbm.js';
import type { OscarState } from './state.js';
import { findTlv, nameText, presenceOf, readTlvs, readUserInfo, u16, type Snac } from './wire.js';

const ITEM_STATE: Record<number, string> = { 2: 'permit', 3: 'deny', 14: 'ignore' };

interface Item {
  name: string;
  gid: number;
  type: number;
  awaiting: boolean;
}

/** Per session: buddies of a multi-SNAC list reply waiting for its last SNAC. */
export class SsiList {
  pending: { ts: Time; item: Item }[] = [];
  overReported = false;
}

export function onSnac(st: OscarState, ssi: SsiList, dir: Dir, b: Uint8Array, sn: Snac, ts: Time): void {
  const key = (sn.family << 16) | sn.subtype;
  switch (key) {
    case 0x00170006: // key request: the screen name
    case 0x00170002: // login request
      return login(st, dir, b, sn, ts);
    case 0x00170003:
      return loginReply(st, b, sn, ts);
    case 0x0001000f: {
      if (dir !== 1) return;
      const u = readUserInfo(b, sn.s, sn.e);
      if (u === null) return snacMalformed(st, ts, sn, 'user info block cut');
      if (st.auth === null) st.auth = 'cookie';
      st.setOwn(u.name, ts);
      st.login(ts);
      return;
    }
    case 0x0001001e: {
      if (dir !== 0) return;
      const chain = readTlvs(b, sn.s, sn.e);
      const t = chain === null ? undefined : findTlv(chain.tlvs, 0x0006);
      if (t === undefined || t.e - t.s < 4) return;
      st.event(ts, 0, st.own, 'presence', null, presenceOf({ name: '', userClass: null, icqStatus: u16(b, t.s + 2), end: 0 }));
      return;
    }
    case 0x0003000b:
    case 0x0003000c: {
      if (dir !== 1) return;
      for (let at = sn.s; at < sn.e; ) {
        const u = readUserInfo(b, at, sn.e);
        if (u === null) return snacMalformed(st, ts, sn, 'user info block cut');
        st.event(ts, 1, st.peer(u.name), 'presence', st.own, sn.subtype === 0x0c ? 'offline' : presenceOf(u));
        at = u.end;
      }
      return;
    }
    case 0x00030004: {
      if (dir !== 0) return;
      for (let at = sn.s; at < sn.e; ) {
        const n = b[at]!;
        if (n === 0 || at + 1 + n > sn.e) return snacMalformed(st, ts, sn, `buddy name of ${n} bytes does not fit`);
        st.contact(ts, st.peer(nameText(b, at + 1, at + 1 + n)), null, null);
        at += 1 + n;
      }
      return;
    }
    case 0x00040006:
    case 0x00040007:
      return onIcbm(st, dir, b, sn, ts);
    case 0x00040014:
      return onTyping(st, dir, b, sn, ts);
    case 0x00130006:
      if (dir === 1) ssiList(st, ssi, b, sn, ts);
      return;
    case 0x00130008:
    case 0x00130009:
    case 0x0013000a:
      return ssiChange(st, dir, b, sn, ts);
    default:
  }
}

/** 0x17/6 and 0x17/2: the screen name (TLV 1) and how the password goes (never the password or its hash). */
function login(st: OscarState, dir: Dir, b: Uint8Array, sn: Snac, ts: Time): void {
  if (dir !== 0) return;
  const chain = readTlvs(b, sn.s, sn.e);
  if (chain === null) return snacMalformed(st, ts, sn, 'TLV chain cut');
  if (sn.subtype === 0x0002) {
    // TLV 0x25: MD5 of key + password (+ AIM string); TLV 2: the "roasted" (XOR-obfuscated) password.
    if (findTlv(chain.tlvs, 0x0025) !== undefined) st.auth = 'md5';
    else if (findTlv(chain.tlvs, 0x0002) !== undefined) st.auth = 'roasted_password';
  } else if (st.auth === null) st.auth = 'md5';
  const name = findTlv(chain.tlvs, 0x0001);
  if (name !== undefined && name.e > name.s) st.setOwn(nameText(b, name.s, name.e), ts);
}

/** 0x17/3 (and the channel-4 sign-off of the old login): TLV 1 name, TLV 6 cookie = accepted, TLV 8 = error code. */
export function loginReply(st: OscarState, b: Uint8Array, sn: { s: number; e: number }, ts: Time): void {
  const chain = readTlvs(b, sn.s, sn.e);
  if (chain === null) return void st.anomaly(ts, 'oscar_snac_malformed', `login reply of ${sn.e - sn.s} bytes: TLV chain cut`);
  const name = findTlv(chain.tlvs, 0x0001);
  if (name !== undefined && name.e > name.s) st.setOwn(nameText(b, name.s, name.e), ts);
  const err = findTlv(chain.tlvs, 0x0008);
  if (err !== undefined && err.e - err.s >= 2) {
    st.event(ts, 1, st.own, 'login_failed', null, `error 0x${u16(b, err.s).toString(16).padStart(4, '0')}`);
    return;
  }
  if (findTlv(chain.tlvs, 0x0006) !== undefined) st.login(ts);
}

/** Items of an SSI SNAC from `at`, at most `count` (Infinity: to the end); null when cut. */
function readItems(b: Uint8Array, at: number, e: number, count: number): Item[] | null {
  const out: Item[] = [];
  while (out.length < count && at < e) {
    if (at + 2 > e) return null;
    const nl = u16(b, at);
    const h = at + 2 + nl;
    if (h + 8 > e) return null;
    const tl = u16(b, h + 6);
    if (h + 8 + tl > e) return null;
    const tlvs = readTlvs(b, h + 8, h + 8 + tl);
    out.push({ name: nameText(b, at + 2, at + 2 + nl), gid: u16(b, h), type: u16(b, h + 4), awaiting: tlvs !== null && findTlv(tlvs.tlvs, 0x0066) !== undefined });
    at = h + 8 + tl;
  }
  return count !== Infinity && out.length < count ? null : out;
}

function ssiList(st: OscarState, ssi: SsiList, b: Uint8Array, sn: Snac, ts: Time): void {
  if (sn.e - sn.s < 3) return snacMalformed(st, ts, sn, 'shorter than version and count');
  const items = readItems(b, sn.s + 3, sn.e, u16(b, sn.s + 1));
  if (items === null) return snacMalformed(st, ts, sn, 'item cut');
  for (const it of items) {
    if (it.type === 1) {
      if (st.groups.size < st.limits.maxSsiItems || st.groups.has(it.gid)) st.groups.set(it.gid, it.name);
      else overLimit(st, ssi, ts);
    } else if (it.type === 0 || it.type in ITEM_STATE) {
      if (ssi.pending.length < st.limits.maxSsiItems) ssi.pending.push({ ts, item: it });
      else overLimit(st, ssi, ts);
    }
  }
  if ((sn.flags & 0x0001) === 0) flushSsi(st, ssi);
}

function overLimit(st: OscarState, ssi: SsiList, ts: Time): void {
  if (ssi.overReported) return;
  ssi.overReported = true;
  st.anomaly(ts, 'oscar_ssi_items_exceeded', `buddy list has more than ${st.limits.maxSsiItems} groups or contacts: the rest are not kept`);
}

/** The buddies of a list reply, with their groups' names. */
export function flushSsi(st: OscarState, ssi: SsiList): void {
  for (const { ts, item } of ssi.pending) contactOf(st, item, ts);
  ssi.pending = [];
}

function contactOf(st: OscarState, it: Item, ts: Time): void {
  if (it.name.length === 0) return;
  const state = it.type === 0 ? (it.awaiting ? 'awaiting_auth' : null) : (ITEM_STATE[it.type] ?? null);
  st.contact(ts, st.peer(it.name), it.type === 0 ? (st.groups.get(it.gid) ?? null) : null, state);
}

/** 0x13/8 add, 9 modify, 0xA delete (from the client, or from the server syncing another session). */
function ssiChange(st: OscarState, dir: Dir, b: Uint8Array, sn: Snac, ts: Time): void {
  const items = readItems(b, sn.s, sn.e, Infinity);
  if (items === null) return snacMalformed(st, ts, sn, 'item cut');
  for (const it of items) {
    if (it.type === 1) {
      if (sn.subtype === 0x0a) st.groups.delete(it.gid);
      else if (st.groups.size < st.limits.maxSsiItems || st.groups.has(it.gid)) st.groups.set(it.gid, it.name);
    } else if (it.type === 0 || it.type in ITEM_STATE) {
      if (sn.subtype === 0x0a) st.event(ts, dir, st.own, 'contact_removed', it.name, st.groups.get(it.gid) ?? null);
      else contactOf(st, it, ts);
    }
  }
}

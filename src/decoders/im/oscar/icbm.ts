/**
 * ICBM (SNAC family 4): instant messages and typing notifications.
 *
 * References: AOL's OSCAR documentation (ICBM__CHANNEL_MSG_TOHOST 4/6, ICBM__CHANNEL_MSG_TOCLIENT 4/7,
 * ICBM__CLIENT_EVENT 4/0x14, "IM data" fragments), Shutko's unofficial ICQ docs (channel 4 "old-style" messages),
 * Wireshark `aim_messaging`. 4/6: cookie (8), channel (2), screen name (u8 length), TLVs. 4/7: cookie, channel, the
 * sender's user info block, TLVs. Channel 1: TLV 2 holds fragments (id u8, version u8, length u16); fragment 1 is the
 * text: charset u16, subset u16, bytes. TLV 4: an auto-response. Channel 2: rendezvous (rendezvous.ts). Channel 4
 * (ICQ): TLV 5 = UIN (u32 little-endian), type u8, flags u8, text length u16 little-endian, NUL-terminated text.
 * 4/0x14: cookie, channel, screen name, type u16 (0 finished, 1 text typed, 2 typing begun).
 */
import type { Dir, Time } from '../types.js';
import { onRendezvous } from './rendezvous.js';
import type { OscarState } from './state.js';
import { CHARSET_ASCII, messageBody } from './text.js';
import { findTlv, readTlvs, readUserInfo, u16, nameText, type Snac } from './wire.js';

const TYPING = ['finished', 'typed', 'begun'];

/** 4/6 (client → server, to `name`) and 4/7 (server → client, from the user info's name). */
export function onIcbm(st: OscarState, dir: Dir, b: Uint8Array, sn: Snac, ts: Time): void {
  const s = sn.s;
  if (sn.e - s < 11) return malformed(st, ts, sn, 'shorter than cookie, channel and name');
  const channel = u16(b, s + 8);
  let peer: string;
  let at: number;
  if (dir === 0) {
    const n = b[s + 10]!;
    if (n === 0 || s + 11 + n > sn.e) return malformed(st, ts, sn, `screen name of ${n} bytes does not fit`);
    peer = nameText(b, s + 11, s + 11 + n);
    at = s + 11 + n;
  } else {
    const u = readUserInfo(b, s + 10, sn.e);
    if (u === null) return malformed(st, ts, sn, 'user info block cut');
    peer = u.name;
    at = u.end;
  }
  st.peer(peer);
  const chain = readTlvs(b, at, sn.e);
  if (chain === null) return malformed(st, ts, sn, 'TLV chain cut');
  const sender = dir === 0 ? st.own : peer;
  const recipient = dir === 0 ? peer : st.own;
  if (channel === 1) {
    const data = findTlv(chain.tlvs, 0x0002);
    if (data === undefined) return;
    const kind = findTlv(chain.tlvs, 0x0004) !== undefined ? 'auto' : 'im';
    textFragments(st, dir, b, data.s, data.e, sender, recipient, kind, ts);
  } else if (channel === 2) {
    const rv = findTlv(chain.tlvs, 0x0005);
    if (rv !== undefined) onRendezvous(st, dir, b, rv.s, rv.e, sender, recipient, ts);
  } else if (channel === 4) {
    const d = findTlv(chain.tlvs, 0x0005);
    if (d !== undefined) icqChannel4(st, dir, b, d.s, d.e, sender, recipient, ts);
  }
}

function textFragments(st: OscarState, dir: Dir, b: Uint8Array, s: number, e: number, sender: string | null, recipient: string | null, kind: string, ts: Time): void {
  let at = s;
  while (at + 4 <= e) {
    const id = b[at]!;
    const len = u16(b, at + 2);
    const ds = at + 4;
    if (ds + len > e) break;
    if (id === 1) {
      if (len < 4) {
        st.anomaly(ts, 'oscar_message_malformed', `text fragment of ${len} bytes, needs at least 4 for the charset`);
        return;
      }
      const cs = u16(b, ds);
      if (cs !== 0 && cs !== 2 && cs !== 3) st.anomaly(ts, 'oscar_charset_unknown', `message block charset 0x${cs.toString(16).padStart(4, '0')}`);
      const body = messageBody(b, ds + 4, ds + len, cs);
      st.ctx.message(ts, { sender, recipient, ...body, kind, dir });
      return;
    }
    at = ds + len;
  }
  st.anomaly(ts, 'oscar_message_malformed', `message data of ${e - s} bytes without a complete text fragment`);
}

/** ICQ "old-style" channel-4 message: types 1 (text) and 4 (URL) are messages, others events. */
function icqChannel4(st: OscarState, dir: Dir, b: Uint8Array, s: number, e: number, sender: string | null, recipient: string | null, ts: Time): void {
  if (e - s < 8) return void st.anomaly(ts, 'oscar_message_malformed', `ICQ channel-4 data of ${e - s} bytes, needs 8`);
  const type = b[s + 4]!;
  const len = b[s + 6]! | (b[s + 7]! << 8);
  if (s + 8 + len > e) return void st.anomaly(ts, 'oscar_message_malformed', `ICQ channel-4 text of ${len} bytes exceeds the ${e - s - 8} left`);
  let te = s + 8 + len;
  if (te > s + 8 && b[te - 1] === 0) te--;
  if (type === 1 || type === 4) {
    // Type 4 is "description 0xFE url": the text as sent, the separator a line feed.
    const body = messageBody(b, s + 8, te, CHARSET_ASCII);
    if (type === 4) body.body = body.body.replace(/\u00fe/g, '\n');
    st.ctx.message(ts, { sender, recipient, ...body, kind: type === 1 ? 'im' : 'url', dir });
  } else st.event(ts, dir, sender, 'icq_message', recipient, `type ${type}`);
}

/** 4/0x14 typing notification, either direction: an event, not a message. */
export function onTyping(st: OscarState, dir: Dir, b: Uint8Array, sn: Snac, ts: Time): void {
  const s = sn.s;
  if (sn.e - s < 11) return malformed(st, ts, sn, 'shorter than cookie, channel and name');
  const n = b[s + 10]!;
  if (n === 0 || s + 11 + n + 2 > sn.e) return malformed(st, ts, sn, `screen name of ${n} bytes and type do not fit`);
  const peer = st.peer(nameText(b, s + 11, s + 11 + n));
  const type = u16(b, s + 11 + n);
  const detail = TYPING[type] ?? `type ${type}`;
  if (dir === 0) st.event(ts, 0, st.own, 'typing', peer, detail);
  else st.event(ts, 1, peer, 'typing', st.own, detail);
}

function malformed(st: OscarState, ts: Time, sn: Snac, why: string): void {
  st.anomaly(ts, 'oscar_snac_malformed', `SNAC ${sn.family.toString(16)}/${sn.subtype.toString(16)} of ${sn.e - sn.s} data bytes: ${why}`);
}

export { malformed as snacMalformed };

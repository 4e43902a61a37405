/**
 * Rendezvous (ICBM channel 2, TLV 5): file-transfer offers and other peer-to-peer invitations, and the OFT
 * connection a direct file offer announces.
 *
 * References: AOL's OSCAR documentation (ICBM rendezvous, "RENDEZVOUS_TLV_*"), Pidgin's `libpurple/protocols/oscar`
 * (`peer.c`, `oft.c`, `family_icbm.c`), Wireshark `aim_messaging`. The block: type u16 (0 propose, 1 cancel, 2
 * accept), cookie (8), capability (16-byte UUID), TLVs: 0x000A request number (1 first offer, 2 "connect to me
 * instead", 3 through a proxy), 0x0002 proxy IP, 0x0003 the proposer's own IP, 0x0004 its IP as the server saw it
 * (added by the server), 0x0005 port, 0x0010 use the proxy (empty), 0x000C invitation text, 0x2711 service data (file
 * transfer: u16 single 1 / multiple 2, u16 file count, u32 total size, NUL-terminated name), 0x2712 name charset.
 */
import type { Dir, Time } from '../types.js';
import type { FileOffer, OscarState } from './state.js';
import { findTlv, ipv4, readTlvs, u16, u32, nameText, type Tlv } from './wire.js';

export const OFT_ANALYZER = 'oscar-oft';

/** What the OFT session gets as `ctx.expected`. */
export interface OftContext {
  /** The offer's file name (the OFT header names it again). */
  filename: string | null;
  size: number | null;
  files: number | null;
  sender: string | null;
  recipient: string | null;
  /** The rendezvous cookie, hex. */
  cookie: string;
}

const CAP_FILE = '094613434c7f11d18222444553540000';
const CAPS: Record<string, string> = {
  [CAP_FILE]: 'file_transfer',
  '094613454c7f11d18222444553540000': 'direct_im',
  '748f2420628711d18222444553540000': 'chat',
  '094613414c7f11d18222444553540000': 'voice',
  '094613484c7f11d18222444553540000': 'get_file',
  '0946134b4c7f11d18222444553540000': 'buddy_list',
  '094613464c7f11d18222444553540000': 'buddy_icon',
};

const hex = (b: Uint8Array, s: number, e: number): string => Array.from(b.subarray(s, e), (x) => x.toString(16).padStart(2, '0')).join('');


export function onRendezvous(st: OscarState, dir: Dir, b: Uint8Array, s: number, e: number, from: string | null, to: string | null, ts: Time): void {
  if (e - s < 26) return void st.anomaly(ts, 'oscar_rendezvous_malformed', `rendezvous block of ${e - s} bytes, needs 26`);
  const type = u16(b, s);
  const cookie = hex(b, s + 2, s + 10);
  const cap = hex(b, s + 10, s + 26);
  const capName = CAPS[cap] ?? `capability ${cap}`;
  const chain = readTlvs(b, s + 26, e);
  if (chain === null) return void st.anomaly(ts, 'oscar_rendezvous_malformed', `rendezvous TLVs cut (${capName})`);
  const tl = chain.tlvs;
  if (cap !== CAP_FILE) {
    if (type === 0) st.event(ts, dir, from, capName === 'chat' ? 'invite' : 'rendezvous', to, capName === 'chat' ? chatRoom(b, findTlv(tl, 0x2711)) : capName);
    return;
  }
  const offers = st.offers;
  if (type === 1 || type === 2) {
    st.event(ts, dir, from, type === 1 ? 'file_cancel' : 'file_accept', to, cookie);
    return;
  }
  if (type !== 0) return;
  const reqNum = tlvU16(b, findTlv(tl, 0x000a)) ?? 1;
  let offer = offers.get(cookie);
  const svc = findTlv(tl, 0x2711);
  if (svc !== undefined && svc.e - svc.s >= 8) {
    let ne = svc.s + 8;
    while (ne < svc.e && b[ne] !== 0) ne++;
    const count = u16(b, svc.s + 2);
    offer = { filename: ne > svc.s + 8 ? nameText(b, svc.s + 8, ne) : null, size: u32(b, svc.s + 4), files: count, sender: from, recipient: to };
    offers.delete(cookie);
    if (offers.size >= st.limits.maxOffers) {
      const oldest = offers.keys().next().value as string;
      offers.delete(oldest);
      st.anomaly(ts, 'oscar_offers_exceeded', `rendezvous offer ${cookie} makes more than ${st.limits.maxOffers} remembered: the oldest is forgotten`);
    }
    offers.set(cookie, offer);
  }
  // A redirect (request 2) comes from the file's receiver; without the first offer, the roles follow from it.
  const o: FileOffer = offer ?? (reqNum >= 2 ? { filename: null, size: null, files: null, sender: to, recipient: from } : { filename: null, size: null, files: null, sender: from, recipient: to });
  const port = tlvU16(b, findTlv(tl, 0x0005));
  const proxied = findTlv(tl, 0x0010) !== undefined;
  const ips = [findTlv(tl, 0x0004), findTlv(tl, 0x0003)].filter((t): t is Tlv => t !== undefined && t.e - t.s === 4).map((t) => ipv4(b, t.s));
  const proxyTlv = findTlv(tl, 0x0002);
  const proxyIp = proxyTlv !== undefined && proxyTlv.e - proxyTlv.s === 4 ? ipv4(b, proxyTlv.s) : null;
  const what = `${o.filename === null ? 'file' : JSON.stringify(o.filename)}${o.size === null ? '' : ` (${o.size} bytes${o.files !== null && o.files > 1 ? `, ${o.files} files` : ''})`}`;
  let where: string;
  if (proxied) where = `via proxy ${proxyIp ?? '?'}:${port ?? '?'}`;
  else if (port === null || port === 0 || ips.length === 0) where = 'no address';
  else where = `${ips[0]}:${port}`;
  st.event(ts, dir, from, 'file_offer', to, `${what} ${where}${reqNum >= 2 ? `, request ${reqNum}` : ''}, cookie ${cookie}`);
  if (proxied) return; // the AOL proxy relays it: noted only (see README)
  if (port === null || port === 0 || ips.length === 0) {
    st.anomaly(ts, 'oscar_rendezvous_malformed', `file offer ${cookie} without a usable address or port`);
    return;
  }
  const hosts = new Set(ips);
  // The proposer behind NAT announces a private address: a tap next to our client sees it at the client's address.
  if (dir === 0) hosts.add(st.ctx.clientIp);
  const context: OftContext = { filename: o.filename, size: o.size, files: o.files, sender: o.sender, recipient: o.recipient, cookie };
  for (const host of hosts) {
    if (host === '0.0.0.0') continue;
    st.ctx.expect(ts, { transport: 'tcp', host, port, ttl: st.limits.offerTtlSeconds, analyzer: OFT_ANALYZER, context });
  }
}

function tlvU16(b: Uint8Array, t: Tlv | undefined): number | null {
  return t !== undefined && t.e - t.s >= 2 ? u16(b, t.s) : null;
}

/** Chat invitation service data: exchange u16, room name (u8 length), instance u16. */
function chatRoom(b: Uint8Array, t: Tlv | undefined): string | null {
  if (t === undefined || t.e - t.s < 3) return null;
  const n = b[t.s + 2]!;
  return t.s + 3 + n <= t.e ? nameText(b, t.s + 3, t.s + 3 + n) : null;
}

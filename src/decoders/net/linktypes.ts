/**
 * Link-layer header types the packet decoder understands, numbered as in the tcpdump.org LINKTYPE registry
 * (https://www.tcpdump.org/linktypes.html), and their names: the short one tcpdump prints after "link-type" and the
 * description capinfos prints as "File encapsulation", so reports can match what those tools say.
 */

/** BSD loopback: a 4-byte address family in the capturing host's byte order. */
export const LINKTYPE_NULL = 0;
/** Ethernet II / 802.3 (DLT_EN10MB). */
export const LINKTYPE_ETHERNET = 1;
/** PPP, optionally with the HDLC address/control bytes (RFC 1661). */
export const LINKTYPE_PPP = 9;
/** DLT_RAW as libpcap numbers it on most systems; written to files by old writers instead of 101. */
export const LINKTYPE_RAW_12 = 12;
/** DLT_RAW as OpenBSD numbers it; same meaning as 12. */
export const LINKTYPE_RAW_14 = 14;
/** PPP in HDLC-like framing (RFC 1662), or Cisco HDLC (RFC 1547 §4.3.1); tcpdump calls it PPP_SERIAL. */
export const LINKTYPE_PPP_HDLC = 50;
/** A PPPoE header (RFC 2516) without the Ethernet header. */
export const LINKTYPE_PPP_ETHER = 51;
/** Raw IP: the version nibble says IPv4 or IPv6. */
export const LINKTYPE_RAW = 101;
/** OpenBSD loopback: a 4-byte address family in network byte order. */
export const LINKTYPE_LOOP = 108;
/** Linux cooked capture v1 (16-byte pseudo header). */
export const LINKTYPE_LINUX_SLL = 113;
/** Raw IPv4 only. */
export const LINKTYPE_IPV4 = 228;
/** Raw IPv6 only. */
export const LINKTYPE_IPV6 = 229;
/** Linux cooked capture v2 (20-byte pseudo header). */
export const LINKTYPE_LINUX_SLL2 = 276;

// [short name as tcpdump prints it, description as capinfos prints it]
const NAMES = new Map<number, readonly [string, string]>([
  [LINKTYPE_NULL, ['NULL', 'NULL/Loopback']],
  [LINKTYPE_ETHERNET, ['EN10MB', 'Ethernet']],
  [LINKTYPE_PPP, ['PPP', 'PPP']],
  [LINKTYPE_RAW_12, ['RAW', 'Raw IP']],
  [LINKTYPE_RAW_14, ['RAW', 'Raw IP']],
  [LINKTYPE_PPP_HDLC, ['PPP_SERIAL', 'PPP']],
  [LINKTYPE_PPP_ETHER, ['PPP_ETHER', 'PPP-over-Ethernet session']],
  [LINKTYPE_RAW, ['RAW', 'Raw IP']],
  [LINKTYPE_LOOP, ['LOOP', 'OpenBSD loopback']],
  [LINKTYPE_LINUX_SLL, ['LINUX_SLL', 'Linux cooked-mode capture v1']],
  [LINKTYPE_IPV4, ['IPV4', 'Raw IPv4']],
  [LINKTYPE_IPV6, ['IPV6', 'Raw IPv6']],
  [LINKTYPE_LINUX_SLL2, ['LINUX_SLL2', 'Linux cooked-mode capture v2']],
]);

/** True when `PacketDecoder` decodes this link type. */
export function linktypeSupported(n: number): boolean {
  return NAMES.has(n);
}

/** The short name tcpdump prints ("EN10MB", "LINUX_SLL2", …); "LINKTYPE_<n>" for a type the decoder does not know. */
export function linktypeName(n: number): string {
  const e = NAMES.get(n);
  return e ? e[0] : `LINKTYPE_${n}`;
}

/** The description capinfos prints ("Ethernet", "Linux cooked-mode capture v1", …); "Unknown (<n>)" otherwise. */
export function linktypeDescription(n: number): string {
  const e = NAMES.get(n);
  return e ? e[1] : `Unknown (${n})`;
}

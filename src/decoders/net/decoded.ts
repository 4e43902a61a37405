/**
 * The result of decoding one packet: numbers and offsets only, filled into one reused object by
 * `PacketDecoder.decode`. Nothing here is valid after the next call to `decode`; `buf` is the capture reader's
 * buffer (valid until the packet callback returns) or, for a datagram reassembled from fragments, a buffer the
 * decoder owns until its next call.
 */

/** What the network layer turned out to be. */
export const enum Net {
  None = 0, // link layer not decoded (unsupported or truncated)
  IPv4 = 1,
  IPv6 = 2,
  ARP = 3,
  Other = 4, // a link-layer payload we do not decode (LLDP, PPP LCP, 802.3 non-SNAP, …)
}

/** What the transport layer turned out to be. */
export const enum L4 {
  None = 0, // no IP, or an IP fragment still waiting for the rest of its datagram, or L4 header broken
  TCP = 1,
  UDP = 2,
  ICMP = 3,
  ICMPv6 = 4,
  Other = 5, // any other IP protocol (GRE, ESP, SCTP, …): ipProto says which
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;
export const TCP_NS = 0x100;

export interface DecodedPacket {
  // ── link layer ──
  linktype: number;
  /** Number of 802.1Q/802.1ad tags seen (outermost first); the first two ids are kept. */
  vlanCount: number;
  vlanOuter: number; // VLAN id, -1 when none
  vlanInner: number; // VLAN id of the second tag, -1 when none
  /**
   * The ethertype (or equivalent) that selected the network layer; 0 when there was none. For PPP, NULL and raw IP
   * links it is the ethertype of what they carry (0x0800/0x86dd); for non-IP PPP it is what came before PPP (0x8864
   * for PPPoE, else 0).
   */
  etherType: number;
  /** PPPoE session id, -1 when the packet was not PPPoE-encapsulated. */
  pppoeSession: number;
  /** The PPP protocol field (0x0021 IPv4, 0x0057 IPv6, 0xc021 LCP, …), -1 when the packet was not PPP. */
  pppProtocol: number;

  // ── tunnels ──
  /** 0 for a native packet; 1 when the fields below describe the packet inside one GTP-U tunnel, and so on. */
  tunnelDepth: number;
  /** TEID of the innermost GTP-U tunnel, -1 when none. */
  gtpTeid: number;

  // ── network layer (innermost IP when tunnelled) ──
  net: Net;
  /** 4 or 6 once the IP header was decoded; 0 when there is none or it was broken (`net` still says IPv4/IPv6). */
  ipVersion: number;
  src4: number; // IPv4 source as an unsigned 32-bit number (0 for IPv6)
  dst4: number;
  /** IPv6 addresses as four big-endian 32-bit words (zeros for IPv4). */
  src6: Uint32Array;
  dst6: Uint32Array;
  /** Upper-layer protocol number after IPv6 extension headers; -1 when there is no IP. */
  ipProto: number;
  ttl: number; // TTL or hop limit
  ipId: number; // IPv4 identification, or IPv6 fragment identification when fragmented, else 0
  /** True when the packet is a datagram reassembled from fragments (buf is then the decoder's copy). */
  reassembled: boolean;
  /** True when this packet was an IP fragment that was held for reassembly: no L4 fields are set. */
  fragmentHeld: boolean;

  // ── transport layer ──
  l4: L4;
  srcPort: number; // 0 when not TCP/UDP
  dstPort: number;
  tcpSeq: number; // unsigned 32-bit
  tcpAck: number;
  tcpFlags: number; // 9 bits: FIN … CWR, NS
  tcpWindow: number; // as on the wire, not scaled
  tcpMss: number; // -1 when the option is absent
  tcpWscale: number; // -1 when absent
  tcpSackPermitted: boolean;
  tcpTsVal: number; // -1 when absent
  tcpTsEcr: number;
  icmpType: number; // -1 when not ICMP/ICMPv6
  icmpCode: number;

  // ── payload ──
  /** The buffer that `payloadOffset` refers to. */
  buf: Uint8Array;
  /** Start of the L4 payload (after the TCP/UDP/ICMP header), or of the IP payload for other protocols. */
  payloadOffset: number;
  /** Payload bytes actually present in `buf` (may be fewer than announced when the snap length cut the packet). */
  payloadLength: number;
  /** Payload bytes the headers announce (IP total length minus headers; ignores Ethernet padding). */
  payloadWireLength: number;
}

export function newDecodedPacket(): DecodedPacket {
  return {
    linktype: 0,
    vlanCount: 0,
    vlanOuter: -1,
    vlanInner: -1,
    etherType: 0,
    pppoeSession: -1,
    pppProtocol: -1,
    tunnelDepth: 0,
    gtpTeid: -1,
    net: Net.None,
    ipVersion: 0,
    src4: 0,
    dst4: 0,
    src6: new Uint32Array(4),
    dst6: new Uint32Array(4),
    ipProto: -1,
    ttl: 0,
    ipId: 0,
    reassembled: false,
    fragmentHeld: false,
    l4: L4.None,
    srcPort: 0,
    dstPort: 0,
    tcpSeq: 0,
    tcpAck: 0,
    tcpFlags: 0,
    tcpWindow: 0,
    tcpMss: -1,
    tcpWscale: -1,
    tcpSackPermitted: false,
    tcpTsVal: -1,
    tcpTsEcr: -1,
    icmpType: -1,
    icmpCode: -1,
    buf: new Uint8Array(0),
    payloadOffset: 0,
    payloadLength: 0,
    payloadWireLength: 0,
  };
}

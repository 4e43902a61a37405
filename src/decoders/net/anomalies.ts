/**
 * Named anomalies of the packet decoders. Each malformed or unsupported thing a decoder meets is counted under one
 * of these codes (protocol-prefixed snake_case, as Zeek's "weirds"), never thrown. Counting is an increment of a
 * Uint32Array slot, so the hot path allocates nothing; names are resolved only when a report is made.
 */
export const NET_ANOMALIES = [
  'link_unsupported', // link type with no decoder: the packet is counted but not decoded
  'link_truncated', // the captured bytes end inside the link-layer header
  'eth_truncated',
  'eth_non_ip', // an ethertype we do not decode (ARP is counted separately, not as an anomaly)
  'vlan_too_deep', // more stacked VLAN tags than MAX_VLAN_TAGS
  'llc_non_snap', // an 802.3 frame whose LLC header is not SNAP
  'sll_truncated',
  'null_bad_family', // BSD loopback address family that is neither IPv4 nor IPv6
  'ppp_truncated',
  'ppp_non_ip', // a PPP protocol other than IPv4/IPv6 (LCP, IPCP, …)
  'pppoe_truncated',
  'pppoe_bad_version',
  'ip_bad_version', // the version nibble does not match the header it was announced as
  'ipv4_truncated', // captured bytes end inside the IPv4 header
  'ipv4_bad_header_length', // IHL below 5 or beyond the captured bytes
  'ipv4_bad_total_length', // total length below the header length
  'ipv4_zero_total_length', // total length 0, as TSO/GSO captures show it: the captured length is used instead
  'ipv4_total_length_exceeds_frame', // total length larger than the frame (and the frame is not snap-truncated)
  'ipv4_bad_option',
  'ipv4_frag_overlap', // two fragments of one datagram overlap (first data kept)
  'ipv4_frag_overlap_differs', // … and the overlapping bytes differ
  'ipv4_frag_too_large', // a fragment ends beyond 65535 bytes
  'ipv4_frag_limit', // fragment table full (datagrams or bytes held): a datagram was dropped
  'ipv4_frag_timeout', // an incomplete datagram expired
  'ipv4_frag_inconsistent', // a fragment past the datagram's end, or a second last fragment with another end (ignored)
  'ipv6_truncated',
  'ipv6_bad_payload_length', // payload length beyond the frame (not snap-cut), or a jumbo option that does not fit
  'ipv6_zero_payload_length', // payload length 0 without a jumbo option (TSO/GSO capture): the captured length is used
  'ipv6_ext_truncated', // an extension header runs past the captured bytes
  'ipv6_ext_too_many', // more extension headers than MAX_IPV6_EXT_HEADERS
  'ipv6_frag_overlap',
  'ipv6_frag_overlap_differs',
  'ipv6_frag_too_large',
  'ipv6_frag_limit',
  'ipv6_frag_timeout',
  'ipv6_frag_inconsistent',
  'tcp_truncated', // captured bytes end inside the TCP header
  'tcp_bad_header_length', // data offset below 5 words or beyond the segment
  'tcp_bad_option', // option length 0/1 or running past the header
  'udp_truncated',
  'udp_bad_length', // UDP length below 8 or beyond the IP payload
  'icmp_truncated',
  'gtp_truncated',
  'gtp_bad_version', // UDP port 2152 carrying something that is not GTPv1 (version 1, PT 1)
  'gtp_bad_length', // the GTP length field is shorter than the optional fields or longer than the UDP payload
  'gtp_bad_extension', // a GTP-U extension header of length 0 or running past the G-PDU
  'gtp_non_ip', // a G-PDU whose payload is neither IPv4 nor IPv6
  'tunnel_too_deep', // more nested tunnels than DecoderOptions.maxTunnelDepth: the packet stays the outer one
  'payload_truncated', // fewer L4 payload bytes captured than announced (the snap length cut it, or a length lies)
] as const;

export type NetAnomaly = (typeof NET_ANOMALIES)[number];

const INDEX = new Map<string, number>(NET_ANOMALIES.map((n, i) => [n, i]));

/** The slot of a named anomaly in a counter array. */
export function anomalyIndex(name: NetAnomaly): number {
  return INDEX.get(name)!;
}

/** Fixed-size counters, one per anomaly code. */
export function newAnomalyCounters(): Uint32Array {
  return new Uint32Array(NET_ANOMALIES.length);
}

/** The non-zero counters as `{ name: count }`, in declaration order. */
export function anomalyCounts(counters: Uint32Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < NET_ANOMALIES.length; i++) {
    const n = counters[i]!;
    if (n > 0) out[NET_ANOMALIES[i]!] = n;
  }
  return out;
}

/**
 * The per-decoder state the layer decoders share: anomaly counters, the fragment table, limits, and what is known
 * about the packet being decoded (capture time, whether the snap length cut it). One instance per PacketDecoder,
 * passed as the first argument of every layer function, so those stay plain monomorphic functions.
 */
import { newPacketRecord, type PacketRecord } from '../capture/record.js';
import { L4, Net, type DecodedPacket } from './decoded.js';
import { FragmentTable } from './fragments.js';

/** Stacked 802.1Q/802.1ad tags accepted before `vlan_too_deep`. */
export const MAX_VLAN_TAGS = 8;
/** IPv6 extension headers walked before `ipv6_ext_too_many` (counted across reassembly, so recursion is bounded). */
export const MAX_IPV6_EXT_HEADERS = 16;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_ARP = 0x0806;

export class DecoderState {
  /** The packet being decoded; only its lengths and timestamp are read, and only off the common path. */
  rec: PacketRecord;

  constructor(
    readonly anomalies: Uint32Array,
    readonly frags: FragmentTable,
    readonly maxTunnelDepth: number,
  ) {
    this.rec = newPacketRecord();
  }

  /** True when the snap length cut the current packet (caplen < origlen): short lengths are then not malformation. */
  snapCut(): boolean {
    return this.rec.caplen < this.rec.origlen;
  }

  /** Capture time of the current packet in seconds. */
  now(): number {
    return this.rec.tsSec + this.rec.tsNsec * 1e-9;
  }
}

/** Clears every field before a packet is decoded (cheaper than allocating: the object is reused). */
export function resetPacket(out: DecodedPacket, data: Uint8Array, linktype: number): void {
  out.linktype = linktype;
  out.vlanCount = 0;
  out.vlanOuter = -1;
  out.vlanInner = -1;
  out.etherType = 0;
  out.pppoeSession = -1;
  out.pppProtocol = -1;
  out.tunnelDepth = 0;
  out.gtpTeid = -1;
  out.net = Net.None;
  out.reassembled = false;
  out.buf = data;
  resetNetwork(out);
}

/** Clears the network- and transport-layer fields, before decoding the packet inside a tunnel. */
export function resetNetwork(out: DecodedPacket): void {
  out.ipVersion = 0;
  out.src4 = 0;
  out.dst4 = 0;
  const s = out.src6;
  const d = out.dst6;
  s[0] = s[1] = s[2] = s[3] = 0;
  d[0] = d[1] = d[2] = d[3] = 0;
  out.ipProto = -1;
  out.ttl = 0;
  out.ipId = 0;
  out.fragmentHeld = false;
  resetTransport(out);
}

/** Clears the transport-layer and payload fields (also when an L4 header turns out broken). */
export function resetTransport(out: DecodedPacket): void {
  out.l4 = L4.None;
  out.srcPort = 0;
  out.dstPort = 0;
  out.tcpSeq = 0;
  out.tcpAck = 0;
  out.tcpFlags = 0;
  out.tcpWindow = 0;
  out.tcpMss = -1;
  out.tcpWscale = -1;
  out.tcpSackPermitted = false;
  out.tcpTsVal = -1;
  out.tcpTsEcr = -1;
  out.icmpType = -1;
  out.icmpCode = -1;
  out.payloadOffset = 0;
  out.payloadLength = 0;
  out.payloadWireLength = 0;
}

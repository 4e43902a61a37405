/**
 * PacketDecoder: from a captured packet (PacketRecord) to the numbers and offsets of its link, network and transport
 * layers (DecodedPacket), for the link types listed in linktypes.ts (tcpdump.org LINKTYPE registry). Raw IP link types
 * are handled here; every other layer has its own file.
 *
 * This is the hot path of the analyzer. It allocates nothing per packet (the output object is reused, bytes are read
 * straight from the capture buffer), copies only IP fragments, and never throws: whatever is malformed increments a
 * named anomaly counter (anomalies.ts) and the packet is returned as far as it could be decoded. No byte outside
 * `rec.data[rec.offset, rec.offset + rec.caplen)` is read.
 */
import type { PacketRecord } from '../capture/record.js';
import { anomalyIndex, newAnomalyCounters } from './anomalies.js';
import { Net, type DecodedPacket } from './decoded.js';
import { decodeEthernet } from './ethernet.js';
import { FragmentTable } from './fragments.js';
import { decodeIPv4 } from './ipv4.js';
import { decodeIPv6 } from './ipv6.js';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_PPP,
  LINKTYPE_PPP_ETHER,
  LINKTYPE_PPP_HDLC,
  LINKTYPE_RAW,
  LINKTYPE_RAW_12,
  LINKTYPE_RAW_14,
} from './linktypes.js';
import { decodeNull } from './null.js';
import { decodePPP, decodePPPoE } from './ppp.js';
import { decodeSLL, decodeSLL2 } from './sll.js';
import { DecoderState, ETHERTYPE_IPV4, ETHERTYPE_IPV6, resetPacket } from './state.js';

export * from './linktypes.js';

const A_UNSUPPORTED = anomalyIndex('link_unsupported');
const A_LINK_TRUNCATED = anomalyIndex('link_truncated');
const A_BAD_VERSION = anomalyIndex('ip_bad_version');

export interface DecoderOptions {
  /** Incomplete datagrams held for reassembly at most; the oldest is dropped beyond. Default 1024. */
  maxFragmentDatagrams?: number;
  /** Fragment bytes held in total at most. Default 8 MiB. */
  maxFragmentBytes?: number;
  /** An incomplete datagram is dropped this long (capture time) after its first fragment. Default 30 s. */
  fragmentTimeoutSec?: number;
  /** GTP-U tunnels nested at most; a deeper one stays the UDP datagram it came in. Default 4. */
  maxTunnelDepth?: number;
}

export class PacketDecoder {
  /** Anomaly counters, indexed by anomalyIndex(name); see anomalyCounts() for a report. */
  readonly anomalies: Uint32Array;
  private readonly st: DecoderState;
  private readonly frags: FragmentTable;

  constructor(opts: DecoderOptions = {}) {
    this.anomalies = newAnomalyCounters();
    this.frags = new FragmentTable(
      opts.maxFragmentDatagrams ?? 1024,
      opts.maxFragmentBytes ?? 8 * 1024 * 1024,
      opts.fragmentTimeoutSec ?? 30,
      this.anomalies,
    );
    this.st = new DecoderState(this.anomalies, this.frags, opts.maxTunnelDepth ?? 4);
  }

  /** Fragment table state for tests/inspect: datagrams and bytes currently held. */
  get fragmentsHeld(): { datagrams: number; bytes: number } {
    return { datagrams: this.frags.datagrams, bytes: this.frags.bytes };
  }

  /**
   * Decodes `rec` into `out` (reset first). Returns `out.net` (Net.None when the link layer could not be decoded).
   * Never throws on any input bytes.
   */
  decode(rec: PacketRecord, out: DecodedPacket): Net {
    const data = rec.data;
    const st = this.st;
    const o = rec.offset;
    let end = o + rec.caplen;
    // A record claiming more than its buffer holds must not make us read past the buffer.
    if (end > data.length) end = data.length;
    resetPacket(out, data, rec.linktype);
    st.rec = rec;
    if (this.frags.datagrams !== 0) this.frags.expire(st.now());

    let ip: number;
    switch (rec.linktype) {
      case LINKTYPE_ETHERNET:
        ip = decodeEthernet(st, data, o, end, out);
        break;
      case LINKTYPE_LINUX_SLL:
        ip = decodeSLL(st, data, o, end, out);
        break;
      case LINKTYPE_LINUX_SLL2:
        ip = decodeSLL2(st, data, o, end, out);
        break;
      case LINKTYPE_RAW:
      case LINKTYPE_RAW_12:
      case LINKTYPE_RAW_14:
        ip = decodeRaw(st, data, o, end, out, 0);
        break;
      case LINKTYPE_IPV4:
        ip = decodeRaw(st, data, o, end, out, 4);
        break;
      case LINKTYPE_IPV6:
        ip = decodeRaw(st, data, o, end, out, 6);
        break;
      case LINKTYPE_NULL:
        ip = decodeNull(st, data, o, end, out, false);
        break;
      case LINKTYPE_LOOP:
        ip = decodeNull(st, data, o, end, out, true);
        break;
      case LINKTYPE_PPP:
        ip = decodePPP(st, data, o, end, out, false);
        break;
      case LINKTYPE_PPP_HDLC:
        ip = decodePPP(st, data, o, end, out, true);
        break;
      case LINKTYPE_PPP_ETHER:
        ip = decodePPPoE(st, data, o, end, out);
        break;
      default:
        this.anomalies[A_UNSUPPORTED]!++;
        return Net.None;
    }
    if (ip >= 0) {
      if (out.net === Net.IPv4) decodeIPv4(st, data, ip, end, out);
      else decodeIPv6(st, data, ip, end, out);
    }
    return out.net;
  }
}

/**
 * Raw IP (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6): no link header. `version` 0 lets the version nibble decide;
 * 4 or 6 is what the link type promises (the IP decoder then checks the nibble).
 */
function decodeRaw(
  st: DecoderState,
  data: Uint8Array,
  o: number,
  end: number,
  out: DecodedPacket,
  version: number,
): number {
  if (end - o < 1) {
    st.anomalies[A_LINK_TRUNCATED]!++;
    return -1;
  }
  if (version === 0) version = data[o]! >> 4;
  if (version === 4) {
    out.etherType = ETHERTYPE_IPV4;
    out.net = Net.IPv4;
    return o;
  }
  if (version === 6) {
    out.etherType = ETHERTYPE_IPV6;
    out.net = Net.IPv6;
    return o;
  }
  st.anomalies[A_BAD_VERSION]!++;
  out.net = Net.Other;
  return -1;
}

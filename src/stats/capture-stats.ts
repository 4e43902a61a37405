/**
 * What `imtap inspect` reports about one capture: decode every packet and count it by link type, network and
 * transport protocol and tunnel, keep the earliest and latest timestamp at full precision, and gather the decoders'
 * anomalies and the reader's issues. The per-packet work is a decode into a reused object and a few increments.
 */
import type { PacketRecord } from '../decoders/capture/record.js';
import { readCapture, type CaptureSummary, type ReadOptions } from '../decoders/capture/reader.js';
import { anomalyCounts } from '../decoders/net/anomalies.js';
import { L4, Net, newDecodedPacket } from '../decoders/net/decoded.js';
import { PacketDecoder } from '../decoders/net/decoder.js';
import { FlowTable, type FlowHandler } from '../flows/flow-table.js';
import type { Flow } from '../flows/flow.js';
import type { FlowLimits } from '../flows/options.js';

export interface StatsOptions {
  /** Track flows and reassemble TCP; each flow is passed here when it ends (valid during the call only). */
  onFlow?: (flow: Flow) => void;
  /**
   * Instead of `onFlow`: a full flow handler (the IM dispatcher), which also receives the reassembled streams and
   * datagrams; `attach` is called with the flow table before the first packet.
   */
  handler?: FlowHandler & { attach?(table: FlowTable): void };
  flowLimits?: Partial<FlowLimits>;
}

export class CaptureStats {
  readonly decoder = new PacketDecoder();
  readonly flows: FlowTable | null;
  private readonly pkt = newDecodedPacket();
  packets = 0;
  bytes = 0;
  wireBytes = 0;
  firstSec = Infinity;
  firstNsec = 0;
  lastSec = -Infinity;
  lastNsec = 0;
  /** False once a packet is older than the one before it (capinfos: "Strict time order"). */
  ordered = true;
  private prevSec = -Infinity;
  private prevNsec = 0;
  readonly perLinktype = new Map<number, number>();
  private runLinktype = -1;
  private runCount = 0;
  readonly net = { ipv4: 0, ipv6: 0, arp: 0, other: 0, undecoded: 0 };
  readonly transport = { tcp: 0, udp: 0, icmp: 0, icmpv6: 0, other: 0, none: 0 };
  readonly tunnels = { vlan: 0, pppoe: 0, gtpu: 0, ipFragments: 0, reassembled: 0 };

  constructor(opts: StatsOptions = {}) {
    const onFlow = opts.onFlow;
    if (opts.handler) {
      this.flows = new FlowTable(opts.handler, opts.flowLimits);
      opts.handler.attach?.(this.flows);
    } else this.flows = onFlow ? new FlowTable({ onFlowEnd: onFlow }, opts.flowLimits) : null;
  }

  /** The per-packet callback; bound so it can be handed to a reader as is. */
  readonly onPacket = (rec: PacketRecord): void => {
    this.packets++;
    this.bytes += rec.caplen;
    this.wireBytes += rec.origlen;
    const s = rec.tsSec;
    const ns = rec.tsNsec;
    if (s < this.firstSec || (s === this.firstSec && ns < this.firstNsec)) {
      this.firstSec = s;
      this.firstNsec = ns;
    }
    if (s > this.lastSec || (s === this.lastSec && ns > this.lastNsec)) {
      this.lastSec = s;
      this.lastNsec = ns;
    }
    if (s < this.prevSec || (s === this.prevSec && ns < this.prevNsec)) this.ordered = false;
    this.prevSec = s;
    this.prevNsec = ns;
    if (rec.linktype !== this.runLinktype) this.flushRun(rec.linktype);
    this.runCount++;

    const p = this.pkt;
    const net = this.decoder.decode(rec, p);
    if (p.vlanCount > 0) this.tunnels.vlan++;
    if (p.pppoeSession >= 0) this.tunnels.pppoe++;
    if (p.tunnelDepth > 0) this.tunnels.gtpu++;
    switch (net) {
      case Net.IPv4:
        this.net.ipv4++;
        break;
      case Net.IPv6:
        this.net.ipv6++;
        break;
      case Net.ARP:
        this.net.arp++;
        return;
      case Net.Other:
        this.net.other++;
        return;
      default:
        this.net.undecoded++;
        return;
    }
    if (p.fragmentHeld) {
      this.tunnels.ipFragments++;
      return;
    }
    if (p.reassembled) this.tunnels.reassembled++;
    if (this.flows !== null) this.flows.packet(p, rec);
    switch (p.l4) {
      case L4.TCP:
        this.transport.tcp++;
        break;
      case L4.UDP:
        this.transport.udp++;
        break;
      case L4.ICMP:
        this.transport.icmp++;
        break;
      case L4.ICMPv6:
        this.transport.icmpv6++;
        break;
      case L4.Other:
        this.transport.other++;
        break;
      default:
        this.transport.none++;
    }
  };

  private flushRun(next: number): void {
    if (this.runLinktype >= 0) this.perLinktype.set(this.runLinktype, (this.perLinktype.get(this.runLinktype) ?? 0) + this.runCount);
    this.runLinktype = next;
    this.runCount = 0;
  }

  /** Close the counting: call once after the last packet. */
  finish(): void {
    this.flushRun(-1);
    this.flows?.finish();
  }

  anomalies(): Record<string, number> {
    return anomalyCounts(this.decoder.anomalies);
  }
}

export async function inspectCapture(name: string, opts: ReadOptions = {}, statsOpts: StatsOptions = {}): Promise<{ summary: CaptureSummary; stats: CaptureStats }> {
  const stats = new CaptureStats(statsOpts);
  const summary = await readCapture(name, stats.onPacket, opts);
  stats.finish();
  return { summary, stats };
}

// Real captures from /work/shared/pcaps (see its README for provenance), decoded packet by packet and compared field
// by field with what tshark dissects: addresses of the innermost IP layer, ports, TCP flags/sequence/lengths, ICMP
// type, GTP TEID, PPPoE session, VLAN ids. Covers Ethernet, QinQ, PPPoE, Linux SLL, BSD NULL, raw IP (101, 228) and
// GTP-U. Without tshark, the captures are still decoded and checked for anomalies.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { newPacketRecord } from '../../src/decoders/capture/record.js';
import { anomalyCounts } from '../../src/decoders/net/anomalies.js';
import { L4, newDecodedPacket, type DecodedPacket } from '../../src/decoders/net/decoded.js';
import { PacketDecoder } from '../../src/decoders/net/decoder.js';

const DIR = fileURLToPath(new URL('../../fixtures/pcaps/', import.meta.url));

const FILES = [
  'sip/gprs-sip-gtpu.pcap', // Ethernet, GTP-U with SIP inside
  'apps/discord_mid_flow.pcap', // QinQ + PPPoE session
  'negatives/linecall_falsepositve.pcap', // QinQ
  'irc/irc-353.pcap', // BSD NULL, IPv4 and IPv6
  'sip/sv-sip-body-large.pcap', // BSD NULL
  'irc/tls_irc-starttls.pcap', // Linux SLL
  'apps/KakaoTalk_talk.pcap', // Linux SLL, 3203 packets
  'apps/dingtalk.pcap', // raw IP (101)
  'sip/sip_sip-long-request-response-paths.pcap', // raw IPv4 (228)
  'apps/whatsapp_login_call.pcap', // ARP, ICMP errors quoting UDP, IPv6
  'sip/sv-sip-method.pcap', // ARP, UDP
  'irc/irc-basic.pcap', // Ethernet, TCP
];

interface Pcap {
  data: Uint8Array;
  linktype: number;
  /** [offset of the packet data, caplen, origlen, tsSec, tsNsec] per record */
  records: [number, number, number, number, number][];
}

/** A minimal classic-pcap reader (24-byte global header, 16-byte record headers); null for pcapng and others. */
function readPcap(path: string): Pcap | null {
  const b = readFileSync(path);
  const magicLE = b.readUInt32LE(0);
  const magicBE = b.readUInt32BE(0);
  let le: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    le = true;
    nano = magicLE === 0xa1b23c4d;
  } else if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) {
    le = false;
    nano = magicBE === 0xa1b23c4d;
  } else return null;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const records: Pcap['records'] = [];
  let o = 24;
  while (o + 16 <= b.length) {
    const caplen = u32(o + 8);
    if (o + 16 + caplen > b.length) break;
    records.push([o + 16, caplen, u32(o + 12), u32(o), nano ? u32(o + 4) : u32(o + 4) * 1000]);
    o += 16 + caplen;
  }
  return { data: new Uint8Array(b.buffer, b.byteOffset, b.length), linktype: u32(20) & 0xffff, records };
}

const FIELDS = [
  'frame.number',
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ip.proto',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'tcp.seq_raw',
  'tcp.len',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
  'icmp.type',
  'icmpv6.type',
  'gtp.teid',
  'pppoe.session_id',
  'vlan.id',
] as const;
type Row = Record<(typeof FIELDS)[number], string[]>;

function tshark(path: string): Row[] {
  const args = ['-r', path, '-n', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of FIELDS) args.push('-e', f);
  const text = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const cols = line.split('\t');
      const row = {} as Row;
      FIELDS.forEach((f, i) => {
        const v = cols[i] ?? '';
        row[f] = v === '' ? [] : f === 'frame.protocols' ? v.split(':') : v.split(',');
      });
      return row;
    });
}

function haveTshark(): boolean {
  try {
    execFileSync('tshark', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ip4(s: string | undefined): number {
  const p = (s ?? '').split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** An IPv6 address in text (RFC 4291 §2.2, with :: and a dotted tail) as four 32-bit words. */
function ip6(s: string | undefined): number[] {
  let text = s ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v = ip4(dotted[1]);
    text = text.slice(0, -dotted[1]!.length) + (v >>> 16).toString(16) + ':' + (v & 0xffff).toString(16);
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl].map((g) => parseInt(g, 16));
  return [0, 1, 2, 3].map((i) => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0);
}

/** Compares one decoded packet with tshark's row; returns the differences. */
function compare(out: DecodedPacket, row: Row): string[] {
  const diffs: string[] = [];
  const expect = (what: string, got: unknown, want: unknown) => {
    if (got !== want) diffs.push(`${what}: got ${String(got)}, tshark ${String(want)}`);
  };
  const protos = row['frame.protocols'];
  // tshark's IP layers in order, with their occurrence index among fields of the same protocol
  const layers: { kind: string; occ: number; pos: number }[] = [];
  let n4 = 0;
  let n6 = 0;
  protos.forEach((p, pos) => {
    if (p === 'ip') layers.push({ kind: p, occ: n4++, pos });
    else if (p === 'ipv6') layers.push({ kind: p, occ: n6++, pos });
  });
  let depth = 0;
  protos.forEach((p, i) => {
    if (p === 'gtp' && (protos[i + 1] === 'ip' || protos[i + 1] === 'ipv6')) depth++;
  });
  expect('tunnel depth', out.tunnelDepth, depth);
  const vlans = row['vlan.id'].map(Number);
  expect('VLAN count', out.vlanCount, vlans.length);
  expect('outer VLAN', out.vlanOuter, vlans[0] ?? -1);
  expect('inner VLAN', out.vlanInner, vlans[1] ?? -1);
  const session = row['pppoe.session_id'][0];
  expect('PPPoE session', out.pppoeSession, session === undefined ? -1 : parseInt(session, 16));
  if (depth > 0) expect('TEID', out.gtpTeid, parseInt(row['gtp.teid'][depth - 1] ?? 'x', 16));
  const ip = layers[depth];
  if (ip === undefined) {
    expect('IP version', out.ipVersion, 0);
    return diffs;
  }
  if (ip.kind === 'ip') {
    expect('IP version', out.ipVersion, 4);
    expect('IPv4 source', out.src4, ip4(row['ip.src'][ip.occ]));
    expect('IPv4 destination', out.dst4, ip4(row['ip.dst'][ip.occ]));
    expect('IP protocol', out.ipProto, Number(row['ip.proto'][ip.occ]));
  } else {
    expect('IP version', out.ipVersion, 6);
    expect('IPv6 source', [...out.src6].join(), ip6(row['ipv6.src'][ip.occ]).join());
    expect('IPv6 destination', [...out.dst6].join(), ip6(row['ipv6.dst'][ip.occ]).join());
  }
  let k = ip.pos + 1;
  while (protos[k]?.startsWith('ipv6.')) k++;
  const l4 = protos[k];
  const occ = protos.slice(0, k).filter((p) => p === l4).length;
  if (l4 === 'tcp') {
    expect('L4', out.l4, L4.TCP);
    expect('TCP source port', out.srcPort, Number(row['tcp.srcport'][occ]));
    expect('TCP destination port', out.dstPort, Number(row['tcp.dstport'][occ]));
    expect('TCP flags', out.tcpFlags, parseInt(row['tcp.flags'][occ] ?? 'x', 16) & 0x1ff);
    expect('TCP sequence', out.tcpSeq, Number(row['tcp.seq_raw'][occ]));
    expect('TCP payload length', out.payloadWireLength, Number(row['tcp.len'][occ]));
  } else if (l4 === 'udp') {
    expect('L4', out.l4, L4.UDP);
    expect('UDP source port', out.srcPort, Number(row['udp.srcport'][occ]));
    expect('UDP destination port', out.dstPort, Number(row['udp.dstport'][occ]));
    expect('UDP payload length', out.payloadWireLength, Number(row['udp.length'][occ]) - 8);
  } else if (l4 === 'icmp') {
    expect('L4', out.l4, L4.ICMP);
    expect('ICMP type', out.icmpType, Number(row['icmp.type'][occ]));
  } else if (l4 === 'icmpv6') {
    expect('L4', out.l4, L4.ICMPv6);
    expect('ICMPv6 type', out.icmpType, Number(row['icmpv6.type'][occ]));
  }
  return diffs;
}

const withTshark = haveTshark();

t.test('real captures decode as tshark dissects them', async (t) => {
  if (!withTshark) t.comment('tshark not installed: decoding only, no field comparison');
  for (const file of FILES) {
    const path = DIR + file;
    const pcap = readPcap(path);
    if (pcap === null) {
      t.fail(`${file}: not a classic pcap`);
      continue;
    }
    const dec = new PacketDecoder();
    const out = newDecodedPacket();
    const rec = newPacketRecord();
    rec.data = pcap.data;
    rec.linktype = pcap.linktype;
    const rows = withTshark ? tshark(path) : [];
    if (withTshark) t.equal(rows.length, pcap.records.length, `${file}: as many packets as tshark`);
    let mismatches = 0;
    let tcp = 0;
    let udp = 0;
    let tunnelled = 0;
    for (let i = 0; i < pcap.records.length; i++) {
      const [offset, caplen, origlen, tsSec, tsNsec] = pcap.records[i]!;
      rec.offset = offset;
      rec.caplen = caplen;
      rec.origlen = origlen;
      rec.tsSec = tsSec;
      rec.tsNsec = tsNsec;
      rec.number = i + 1;
      dec.decode(rec, out);
      if (out.l4 === L4.TCP) tcp++;
      if (out.l4 === L4.UDP) udp++;
      if (out.tunnelDepth > 0) tunnelled++;
      const row = rows[i];
      if (row === undefined) continue;
      const diffs = compare(out, row);
      if (diffs.length > 0 && ++mismatches <= 3) t.fail(`${file} packet ${i + 1}: ${diffs.join('; ')}`);
    }
    const counts = `${tcp} TCP, ${udp} UDP, ${tunnelled} tunnelled`;
    t.equal(mismatches, 0, `${file}: ${pcap.records.length} packets (${counts}) match tshark`);
    t.same(anomalyCounts(dec.anomalies), {}, `${file}: no anomaly`);
    t.ok(tcp + udp > 0, `${file}: transport decoded`);
  }
});

t.test('known contents of three captures', async (t) => {
  // Spot checks that do not depend on tshark, read off `tshark -r FILE -c 1 -V` once.
  const first = (file: string): DecodedPacket => {
    const pcap = readPcap(DIR + file)!;
    const rec = newPacketRecord();
    rec.data = pcap.data;
    rec.linktype = pcap.linktype;
    [rec.offset, rec.caplen, rec.origlen] = pcap.records[0]!;
    const out = newDecodedPacket();
    new PacketDecoder().decode(rec, out);
    return out;
  };
  let out = first('sip/gprs-sip-gtpu.pcap');
  t.equal(out.tunnelDepth, 1);
  t.equal(out.gtpTeid, 0x02000000);
  t.equal(out.src4, ip4('10.255.1.1'));
  t.equal(out.dst4, ip4('10.0.0.100'));
  t.equal(out.srcPort, 5090);
  t.equal(out.dstPort, 5060);
  t.equal(Buffer.from(out.buf.subarray(out.payloadOffset, out.payloadOffset + 8)).toString(), 'REGISTER');
  out = first('apps/discord_mid_flow.pcap');
  t.equal(out.vlanOuter, 757);
  t.equal(out.vlanInner, 1);
  t.equal(out.pppoeSession, 0x3d6d);
  t.equal(out.src4, ip4('66.22.242.132'));
  t.equal(out.srcPort, 50001);
  t.equal(out.dstPort, 54935);
  out = first('irc/irc-353.pcap');
  t.equal(out.linktype, 0);
  t.same([...out.src6], [0, 0, 0, 1], '::1');
  t.equal(out.srcPort, 65388);
  t.equal(out.dstPort, 6666);
  t.equal(out.tcpMss, 16324);
  t.equal(out.tcpWscale, 5);
  t.equal(out.tcpTsVal, 851844144);
  t.equal(out.tcpSackPermitted, true);
});

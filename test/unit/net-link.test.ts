// Link layers: Ethernet (VLAN, QinQ, LLC/SNAP, PPPoE, ARP), Linux SLL/SLL2, BSD NULL/LOOP, raw IP, PPP framings,
// and the link type names. Packets are annotated hex; expected values are read off the annotations.
import t from 'tap';
import { newPacketRecord, type PacketRecord } from '../../src/decoders/capture/record.js';
import { anomalyCounts } from '../../src/decoders/net/anomalies.js';
import { L4, Net, newDecodedPacket, type DecodedPacket } from '../../src/decoders/net/decoded.js';
import { PacketDecoder } from '../../src/decoders/net/decoder.js';
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
  linktypeDescription,
  linktypeName,
  linktypeSupported,
} from '../../src/decoders/net/linktypes.js';

type TT = Parameters<Parameters<typeof t.test>[0]>[0];

/** Bytes from hex written with whitespace and `#` comments. */
function hex(s: string): Uint8Array {
  const h = s.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(h)) throw new Error(`bad hex: ${h}`);
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function record(bytes: Uint8Array, linktype: number): PacketRecord {
  const r = newPacketRecord();
  r.data = bytes;
  r.caplen = r.origlen = bytes.length;
  r.linktype = linktype;
  return r;
}

function decode(s: string, linktype: number): { out: DecodedPacket; an: Record<string, number>; ret: Net } {
  const dec = new PacketDecoder();
  const out = newDecodedPacket();
  const ret = dec.decode(record(hex(s), linktype), out);
  return { out, an: anomalyCounts(dec.anomalies), ret };
}

const ETH = `
  00 11 22 33 44 55   # destination MAC
  66 77 88 99 aa bb   # source MAC
`;
// 44-byte IPv4/TCP packet used behind every link header.
const IPV4_TCP = `
  45 00 00 2c         # version 4, IHL 5 | TOS 0 | total length 44
  12 34 40 00         # identification 0x1234 | DF, fragment offset 0
  40 06 00 00         # TTL 64 | protocol 6 (TCP) | checksum (not checked)
  c0 00 02 01         # source 192.0.2.1
  c6 33 64 02         # destination 198.51.100.2
  d4 31 00 50         # TCP source port 54321 | destination port 80
  00 00 03 e8         # sequence 1000
  80 00 00 01         # acknowledgment 0x80000001 (above 2^31: must come out unsigned)
  50 18 ff ff         # data offset 5 | flags PSH+ACK | window 65535
  00 00 00 00         # checksum | urgent pointer
  61 62 63 64         # payload "abcd"
`;
const SRC4 = 0xc0000201;
const DST4 = 0xc6336402;
// 52-byte IPv6/UDP packet.
const IPV6_UDP = `
  60 00 00 00                                       # version 6, traffic class 0, flow label 0
  00 0c 11 40                                       # payload length 12 | next header 17 (UDP) | hop limit 64
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01   # source 2001:db8::1
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02   # destination 2001:db8::2
  13 c4 16 2e 00 0c 00 00                           # UDP 5060 -> 5678, length 12, checksum
  68 69 21 0a                                       # payload "hi!\\n"
`;

function assertIPv4Tcp(t: TT, out: DecodedPacket, payloadOffset: number): void {
  t.equal(out.net, Net.IPv4, 'net IPv4');
  t.equal(out.ipVersion, 4);
  t.equal(out.src4, SRC4, 'source 192.0.2.1');
  t.equal(out.dst4, DST4, 'destination 198.51.100.2');
  t.equal(out.ipProto, 6);
  t.equal(out.l4, L4.TCP);
  t.equal(out.srcPort, 54321);
  t.equal(out.dstPort, 80);
  t.equal(out.payloadOffset, payloadOffset, 'payload offset');
  t.equal(out.payloadLength, 4);
  t.equal(out.payloadWireLength, 4);
}

function assertIPv6Udp(t: TT, out: DecodedPacket, payloadOffset: number): void {
  t.equal(out.net, Net.IPv6, 'net IPv6');
  t.equal(out.ipVersion, 6);
  t.same([...out.src6], [0x20010db8, 0, 0, 1], 'source 2001:db8::1');
  t.same([...out.dst6], [0x20010db8, 0, 0, 2], 'destination 2001:db8::2');
  t.equal(out.ipProto, 17);
  t.equal(out.l4, L4.UDP);
  t.equal(out.srcPort, 5060);
  t.equal(out.dstPort, 5678);
  t.equal(out.payloadOffset, payloadOffset, 'payload offset');
  t.equal(out.payloadLength, 4);
}

t.test('Ethernet II + IPv4 + TCP, padding is not payload', async (t) => {
  const padding = '00 00 # Ethernet padding to 60 bytes\n';
  const { out, an, ret } = decode(ETH + '08 00 # IPv4\n' + IPV4_TCP + padding, LINKTYPE_ETHERNET);
  t.equal(ret, Net.IPv4, 'decode returns out.net');
  t.same(an, {}, 'no anomaly');
  t.equal(out.linktype, 1);
  t.equal(out.etherType, 0x0800);
  t.equal(out.vlanCount, 0);
  t.equal(out.vlanOuter, -1);
  t.equal(out.pppoeSession, -1);
  t.equal(out.tunnelDepth, 0);
  t.equal(out.ttl, 64);
  t.equal(out.ipId, 0x1234);
  t.equal(out.tcpSeq, 1000);
  t.equal(out.tcpAck, 2147483649, 'ack unsigned');
  t.equal(out.tcpFlags, 0x18);
  t.equal(out.tcpWindow, 65535);
  assertIPv4Tcp(t, out, 54);
  t.equal(String.fromCharCode(...out.buf.subarray(out.payloadOffset, out.payloadOffset + out.payloadLength)), 'abcd');
});

t.test('802.1Q tag', async (t) => {
  const { out, an } = decode(ETH + '81 00  # 802.1Q\n 20 64 # PCP 1, VID 100\n 08 00 # IPv4\n' + IPV4_TCP, 1);
  t.same(an, {});
  t.equal(out.vlanCount, 1);
  t.equal(out.vlanOuter, 100);
  t.equal(out.vlanInner, -1);
  t.equal(out.etherType, 0x0800);
  assertIPv4Tcp(t, out, 58);
});

t.test('QinQ 802.1ad + 802.1Q carrying IPv6', async (t) => {
  const { out, an } = decode(
    ETH + '88 a8 # 802.1ad\n 00 c8 # VID 200\n 81 00 # 802.1Q\n 0f ff # VID 4095\n 86 dd # IPv6\n' + IPV6_UDP,
    1,
  );
  t.same(an, {});
  t.equal(out.vlanCount, 2);
  t.equal(out.vlanOuter, 200);
  t.equal(out.vlanInner, 4095);
  t.equal(out.etherType, 0x86dd);
  assertIPv6Udp(t, out, 14 + 8 + 48);
});

t.test('three stacked tags with the old 0x9100 QinQ type: first two ids kept', async (t) => {
  const { out, an } = decode(
    ETH + '91 00 00 01 # 0x9100, VID 1\n 88 a8 00 02 # VID 2\n 81 00 00 03 # VID 3\n 08 00\n' + IPV4_TCP,
    1,
  );
  t.same(an, {});
  t.equal(out.vlanCount, 3);
  t.equal(out.vlanOuter, 1);
  t.equal(out.vlanInner, 2);
  assertIPv4Tcp(t, out, 14 + 12 + 20 + 20);
});

t.test('nine VLAN tags exceed the bound', async (t) => {
  const { out, an } = decode(ETH + '81 00 00 01 '.repeat(9) + '08 00\n' + IPV4_TCP, 1);
  t.same(an, { vlan_too_deep: 1 });
  t.equal(out.net, Net.None);
  t.equal(out.vlanCount, 8);
});

t.test('802.3 length frame with LLC/SNAP', async (t) => {
  const { out, an } = decode(
    ETH +
      `00 34             # 802.3 length 52 (8 LLC/SNAP + 44 IP)
       aa aa 03          # LLC: DSAP SNAP, SSAP SNAP, UI
       00 00 00 08 00    # SNAP: OUI 0 (RFC 1042), ethertype IPv4
      ` +
      IPV4_TCP,
    1,
  );
  t.same(an, {});
  t.equal(out.etherType, 0x0800);
  assertIPv4Tcp(t, out, 22 + 20 + 20);
});

t.test('802.3 frame with a non-SNAP LLC (STP)', async (t) => {
  const { out, an } = decode(ETH + '00 26 # length 38\n 42 42 03 # STP LLC\n 00 00 00 00 00 00 00 00', 1);
  t.same(an, { llc_non_snap: 1 });
  t.equal(out.net, Net.Other);
});

t.test('ARP, PPPoE discovery and LLDP', async (t) => {
  let r = decode(ETH + '08 06 # ARP\n 00 01 08 00 06 04 00 01 # htype ptype hlen plen op\n', 1);
  t.equal(r.out.net, Net.ARP);
  t.equal(r.out.etherType, 0x0806);
  t.same(r.an, {}, 'ARP is not an anomaly');
  r = decode(ETH + '88 63 # PPPoE discovery\n 11 09 00 00 00 00 # PADI\n', 1);
  t.equal(r.out.net, Net.Other);
  t.same(r.an, {}, 'PPPoE discovery is not an anomaly');
  r = decode(ETH + '88 cc # LLDP\n 02 07 04 00 11 22 33 44 55\n', 1);
  t.equal(r.out.net, Net.Other);
  t.equal(r.out.etherType, 0x88cc);
  t.same(r.an, { eth_non_ip: 1 });
});

t.test('PPPoE session carrying IPv4', async (t) => {
  const { out, an } = decode(
    ETH +
      `88 64          # PPPoE session
       11 00          # version 1, type 1 | code 0 (session data)
       12 34          # session id 0x1234
       00 2e          # length 46 (2 PPP + 44 IP)
       00 21          # PPP protocol IPv4
      ` +
      IPV4_TCP,
    1,
  );
  t.same(an, {});
  t.equal(out.pppoeSession, 0x1234);
  t.equal(out.pppProtocol, 0x21);
  t.equal(out.etherType, 0x0800, 'the ethertype equivalent of the PPP protocol');
  assertIPv4Tcp(t, out, 22 + 40);
});

t.test('PPPoE inside QinQ, IPv6', async (t) => {
  const { out, an } = decode(
    ETH +
      `88 a8 02 f5               # 802.1ad VID 757
       81 00 00 01               # 802.1Q VID 1
       88 64 11 00 00 07 00 36   # PPPoE session 7, length 54
       00 57                     # PPP IPv6
      ` +
      IPV6_UDP,
    1,
  );
  t.same(an, {});
  t.equal(out.vlanOuter, 757);
  t.equal(out.vlanInner, 1);
  t.equal(out.pppoeSession, 7);
  assertIPv6Udp(t, out, 14 + 8 + 8 + 48);
});

t.test('PPPoE errors: bad version, LCP', async (t) => {
  let r = decode(ETH + '88 64 21 00 00 07 00 2e # version 2\n 00 21\n' + IPV4_TCP, 1);
  t.same(r.an, { pppoe_bad_version: 1 });
  t.equal(r.out.net, Net.None);
  r = decode(ETH + '88 64 11 00 00 07 00 06 # session 7\n c0 21 # LCP\n 09 01 00 04 # echo request\n', 1);
  t.same(r.an, { ppp_non_ip: 1 });
  t.equal(r.out.net, Net.Other);
  t.equal(r.out.pppProtocol, 0xc021);
  t.equal(r.out.pppoeSession, 7);
});

t.test('Linux SLL', async (t) => {
  const SLL = `
    00 00          # packet type: to us
    00 01          # ARPHRD_ETHER
    00 06          # address length 6
    00 11 22 33 44 55 00 00   # address, padded to 8
  `;
  let r = decode(SLL + '08 00 # IPv4\n' + IPV4_TCP, LINKTYPE_LINUX_SLL);
  t.same(r.an, {});
  t.equal(r.out.linktype, 113);
  assertIPv4Tcp(t, r.out, 16 + 40);
  r = decode(SLL + '81 00 # VLAN not offloaded\n 00 0a 86 dd # VID 10, IPv6\n' + IPV6_UDP, LINKTYPE_LINUX_SLL);
  t.same(r.an, {});
  t.equal(r.out.vlanOuter, 10);
  assertIPv6Udp(t, r.out, 20 + 48);
  r = decode(SLL + '00 04 # ETH_P_802_2: LLC follows\n aa aa 03 00 00 00 08 00 # SNAP IPv4\n' + IPV4_TCP, 113);
  t.same(r.an, {});
  assertIPv4Tcp(t, r.out, 24 + 40);
  r = decode('00 04 03 38 00 00 00 00 00 00 00 00 00 00 # netlink (ARPHRD 824)\n 00 00 # NETLINK_ROUTE\n 14 00 00 00', 113);
  t.equal(r.out.net, Net.Other);
  t.same(r.an, { eth_non_ip: 1 });
});

t.test('Linux SLL2', async (t) => {
  const r = decode(
    `86 dd          # protocol IPv6
     00 00          # reserved
     00 00 00 02    # interface index 2
     00 01          # ARPHRD_ETHER
     04             # packet type: outgoing
     06             # address length
     00 11 22 33 44 55 00 00   # address
    ` + IPV6_UDP,
    LINKTYPE_LINUX_SLL2,
  );
  t.same(r.an, {});
  t.equal(r.out.etherType, 0x86dd);
  assertIPv6Udp(t, r.out, 20 + 48);
});

t.test('BSD NULL loopback in both byte orders, and LOOP', async (t) => {
  const cases: [string, number, Net][] = [
    ['02 00 00 00 # AF_INET, little-endian host', LINKTYPE_NULL, Net.IPv4],
    ['00 00 00 02 # AF_INET, big-endian host', LINKTYPE_NULL, Net.IPv4],
    ['1e 00 00 00 # AF_INET6 30 (macOS), little-endian', LINKTYPE_NULL, Net.IPv6],
    ['00 00 00 1e # AF_INET6 30, big-endian', LINKTYPE_NULL, Net.IPv6],
    ['1c 00 00 00 # AF_INET6 28 (FreeBSD)', LINKTYPE_NULL, Net.IPv6],
    ['00 00 00 18 # AF_INET6 24 (OpenBSD), big-endian', LINKTYPE_NULL, Net.IPv6],
    ['0a 00 00 00 # AF_INET6 10 (Linux)', LINKTYPE_NULL, Net.IPv6],
    ['00 00 00 02 # LOOP: AF_INET in network order', LINKTYPE_LOOP, Net.IPv4],
    ['00 00 00 18 # LOOP: AF_INET6 24', LINKTYPE_LOOP, Net.IPv6],
  ];
  for (const [h, lt, net] of cases) {
    const r = decode(h + '\n' + (net === Net.IPv4 ? IPV4_TCP : IPV6_UDP), lt);
    t.same(r.an, {}, h);
    if (net === Net.IPv4) assertIPv4Tcp(t, r.out, 4 + 40);
    else assertIPv6Udp(t, r.out, 4 + 48);
  }
  let r = decode('07 00 00 00 # AF 7: not IP\n' + IPV4_TCP, LINKTYPE_NULL);
  t.same(r.an, { null_bad_family: 1 });
  t.equal(r.out.net, Net.Other);
  r = decode('02 00 00 00 # little-endian is not LOOP\n' + IPV4_TCP, LINKTYPE_LOOP);
  t.same(r.an, { null_bad_family: 1 });
});

t.test('raw IP link types', async (t) => {
  for (const lt of [LINKTYPE_RAW, 12, 14]) {
    let r = decode(IPV4_TCP, lt);
    t.same(r.an, {});
    t.equal(r.out.etherType, 0x0800);
    assertIPv4Tcp(t, r.out, 40);
    r = decode(IPV6_UDP, lt);
    assertIPv6Udp(t, r.out, 48);
    r = decode('50 00 00 14 # version 5\n', lt);
    t.same(r.an, { ip_bad_version: 1 });
    t.equal(r.out.net, Net.Other);
  }
  let r = decode(IPV4_TCP, LINKTYPE_IPV4);
  assertIPv4Tcp(t, r.out, 40);
  r = decode(IPV6_UDP, LINKTYPE_IPV6);
  assertIPv6Udp(t, r.out, 48);
  r = decode(IPV6_UDP, LINKTYPE_IPV4);
  t.same(r.an, { ip_bad_version: 1 }, 'IPv6 bytes on the IPv4-only link type');
  t.equal(r.out.net, Net.IPv4);
  t.equal(r.out.ipVersion, 0, 'IP header not decoded');
  t.equal(r.out.l4, L4.None);
});

t.test('PPP with and without address/control, compressed protocol', async (t) => {
  const cases: [string, number][] = [
    ['ff 03 # address, control\n 00 21 # IPv4\n', 4],
    ['00 21 # IPv4, no address/control\n', 2],
    ['21 # compressed protocol IPv4\n', 1],
    ['ff 03 21 # address/control + compressed protocol\n', 3],
  ];
  for (const [h, hl] of cases) {
    const r = decode(h + IPV4_TCP, LINKTYPE_PPP);
    t.same(r.an, {}, h);
    t.equal(r.out.pppProtocol, 0x21);
    assertIPv4Tcp(t, r.out, hl + 40);
  }
  let r = decode('ff 03 00 57 # IPv6\n' + IPV6_UDP, LINKTYPE_PPP);
  assertIPv6Udp(t, r.out, 4 + 48);
  r = decode('ff 03 80 21 # IPCP\n 01 01 00 04', LINKTYPE_PPP);
  t.same(r.an, { ppp_non_ip: 1 });
  t.equal(r.out.net, Net.Other);
  t.equal(r.out.pppProtocol, 0x8021);
  r = decode('ff 05 00 21 # address without UI control\n' + IPV4_TCP, LINKTYPE_PPP);
  t.same(r.an, { ppp_non_ip: 1 });
});

t.test('PPP in HDLC framing and Cisco HDLC (LINKTYPE 50)', async (t) => {
  let r = decode('ff 03 00 21\n' + IPV4_TCP, LINKTYPE_PPP_HDLC);
  t.same(r.an, {});
  assertIPv4Tcp(t, r.out, 44);
  r = decode('0f 00 # Cisco HDLC unicast, control 0\n 08 00 # ethertype IPv4\n' + IPV4_TCP, LINKTYPE_PPP_HDLC);
  t.same(r.an, {});
  t.equal(r.out.etherType, 0x0800);
  assertIPv4Tcp(t, r.out, 44);
  r = decode('8f 00 86 dd # Cisco HDLC broadcast, IPv6\n' + IPV6_UDP, LINKTYPE_PPP_HDLC);
  assertIPv6Udp(t, r.out, 52);
});

t.test('PPP_ETHER (LINKTYPE 51): PPPoE without Ethernet', async (t) => {
  let r = decode('11 00 00 2a 00 2e # session 42, length 46\n 00 21\n' + IPV4_TCP, LINKTYPE_PPP_ETHER);
  t.same(r.an, {});
  t.equal(r.out.pppoeSession, 42);
  assertIPv4Tcp(t, r.out, 48);
  r = decode('11 07 00 00 00 00 # PADO\n', LINKTYPE_PPP_ETHER);
  t.equal(r.out.net, Net.Other);
  t.same(r.an, {});
});

t.test('unsupported link type', async (t) => {
  const r = decode(IPV4_TCP, 147);
  t.equal(r.ret, Net.None);
  t.same(r.an, { link_unsupported: 1 });
  t.equal(r.out.linktype, 147);
});

t.test('record offset and a buffer longer than the packet', async (t) => {
  const pkt = hex(ETH + '08 00\n' + IPV4_TCP);
  const buf = new Uint8Array(pkt.length + 100).fill(0xee);
  buf.set(pkt, 37);
  const r = newPacketRecord();
  r.data = buf;
  r.offset = 37;
  r.caplen = r.origlen = pkt.length;
  r.linktype = 1;
  const dec = new PacketDecoder();
  const out = newDecodedPacket();
  dec.decode(r, out);
  t.same(anomalyCounts(dec.anomalies), {});
  assertIPv4Tcp(t, out, 37 + 54);
  t.equal(out.buf, buf, 'buf is the record buffer');
  // A record claiming more bytes than the buffer has is clamped, not read past.
  r.offset = 0;
  r.data = pkt.subarray(0, 30);
  r.caplen = r.origlen = 58;
  t.doesNotThrow(() => dec.decode(r, out));
  t.equal(out.ipVersion, 0);
  t.equal(anomalyCounts(dec.anomalies).ipv4_truncated, 1);
});

t.test('link type names', async (t) => {
  const expected: [number, string, string][] = [
    [0, 'NULL', 'NULL/Loopback'],
    [1, 'EN10MB', 'Ethernet'],
    [9, 'PPP', 'PPP'],
    [12, 'RAW', 'Raw IP'],
    [14, 'RAW', 'Raw IP'],
    [50, 'PPP_SERIAL', 'PPP'],
    [51, 'PPP_ETHER', 'PPP-over-Ethernet session'],
    [101, 'RAW', 'Raw IP'],
    [108, 'LOOP', 'OpenBSD loopback'],
    [113, 'LINUX_SLL', 'Linux cooked-mode capture v1'],
    [228, 'IPV4', 'Raw IPv4'],
    [229, 'IPV6', 'Raw IPv6'],
    [276, 'LINUX_SLL2', 'Linux cooked-mode capture v2'],
  ];
  for (const [n, short, long] of expected) {
    t.equal(linktypeName(n), short, `name of ${n}`);
    t.equal(linktypeDescription(n), long, `description of ${n}`);
    t.ok(linktypeSupported(n));
  }
  t.equal(linktypeName(147), 'LINKTYPE_147');
  t.equal(linktypeDescription(147), 'Unknown (147)');
  t.notOk(linktypeSupported(147));
});

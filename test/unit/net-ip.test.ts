// Network and transport layers and GTP-U: IPv4 (options, lengths), IPv6 (extension header chain, jumbograms), TCP
// (options), UDP (lengths), ICMP/ICMPv6, other protocols, GTP-U tunnels. Packets are annotated hex on raw IP link
// types (no link header), so offsets below count from the IP header.
import t from 'tap';
import { newPacketRecord } from '../../src/decoders/capture/record.js';
import { anomalyCounts } from '../../src/decoders/net/anomalies.js';
import { L4, Net, newDecodedPacket, TCP_ACK, TCP_NS, TCP_SYN, type DecodedPacket } from '../../src/decoders/net/decoded.js';
import { PacketDecoder, type DecoderOptions } from '../../src/decoders/net/decoder.js';

/** Bytes from hex written with whitespace and `#` comments. */
function hex(s: string): Uint8Array {
  const h = s.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(h)) throw new Error(`bad hex: ${h}`);
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function decode(
  s: string | Uint8Array,
  linktype = 101,
  opts: DecoderOptions = {},
  origlen?: number,
): { out: DecodedPacket; an: Record<string, number> } {
  const bytes = typeof s === 'string' ? hex(s) : s;
  const dec = new PacketDecoder(opts);
  const out = newDecodedPacket();
  const r = newPacketRecord();
  r.data = bytes;
  r.caplen = bytes.length;
  r.origlen = origlen ?? bytes.length;
  r.linktype = linktype;
  dec.decode(r, out);
  return { out, an: anomalyCounts(dec.anomalies) };
}

function payload(out: DecodedPacket): string {
  return Buffer.from(out.buf.subarray(out.payloadOffset, out.payloadOffset + out.payloadLength)).toString('latin1');
}

const V4_ADDRS = `
  0a 00 00 01         # source 10.0.0.1
  0a 00 00 02         # destination 10.0.0.2
`;
const V6_ADDRS = `
  fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 01   # source fe80::1
  ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 fb   # destination ff02::fb
`;
const TCP_20 = `
  30 39 01 bb         # source port 12345 | destination port 443
  ff ff ff fe         # sequence 4294967294
  00 00 00 00         # acknowledgment 0
  50 02 72 10         # data offset 5 | SYN | window 29200
  00 00 00 00         # checksum | urgent pointer
`;

t.test('IPv4 with options (record route, NOP, EOL)', async (t) => {
  const { out, an } = decode(`
    48 00 00 34         # version 4, IHL 8 (32 bytes) | TOS | total length 52
    00 07 00 00         # id 7 | no flags
    3f 06 00 00         # TTL 63 | TCP
    ${V4_ADDRS}
    07 07 04 00 00 00 00  # option: record route, length 7, pointer 4, one empty slot
    01                    # NOP
    00 00 00 00           # EOL + padding
    ${TCP_20}
  `);
  t.same(an, {});
  t.equal(out.ipVersion, 4);
  t.equal(out.ttl, 63);
  t.equal(out.ipId, 7);
  t.equal(out.src4, 0x0a000001);
  t.equal(out.dst4, 0x0a000002);
  t.equal(out.l4, L4.TCP);
  t.equal(out.srcPort, 12345);
  t.equal(out.dstPort, 443);
  t.equal(out.tcpSeq, 4294967294);
  t.equal(out.tcpFlags, TCP_SYN);
  t.equal(out.tcpWindow, 29200);
  t.equal(out.payloadOffset, 52);
  t.equal(out.payloadLength, 0);
  t.equal(out.tcpMss, -1, 'no MSS option');
});

t.test('IPv4 header errors', async (t) => {
  let r = decode(`46 00 00 2c 00 00 00 00 40 06 00 00 ${V4_ADDRS} 44 01 00 00 # option length 1\n ${TCP_20}`);
  t.same(r.an, { ipv4_bad_option: 1 }, 'option with length 1');
  t.equal(r.out.l4, L4.TCP, 'a bad option does not stop decoding');
  r = decode(`46 00 00 2c 00 00 00 00 40 06 00 00 ${V4_ADDRS} 07 09 04 00 # option length 9 > 4 left\n ${TCP_20}`);
  t.same(r.an, { ipv4_bad_option: 1 }, 'option running past the header');
  r = decode(`44 00 00 28 00 00 00 00 40 06 00 00 ${V4_ADDRS} # IHL 4\n ${TCP_20}`);
  t.same(r.an, { ipv4_bad_header_length: 1 });
  t.equal(r.out.ipVersion, 0);
  t.equal(r.out.net, Net.IPv4);
  r = decode(`4f 00 00 3c 00 00 00 00 40 06 00 00 ${V4_ADDRS} # IHL 15 (60 bytes) in a 40-byte frame\n ${TCP_20}`);
  t.same(r.an, { ipv4_bad_header_length: 1 });
  r = decode(`45 00 00 13 00 00 00 00 40 06 00 00 ${V4_ADDRS} # total length 19 < 20\n ${TCP_20}`);
  t.same(r.an, { ipv4_bad_total_length: 1 });
  r = decode(`45 00 00 40 00 00 00 00 40 06 00 00 ${V4_ADDRS} # total length 64 > 40 captured, not snap-cut\n ${TCP_20}`);
  t.same(r.an, { ipv4_total_length_exceeds_frame: 1, payload_truncated: 1 });
  t.equal(r.out.payloadWireLength, 24);
  t.equal(r.out.payloadLength, 0);
  r = decode(`45 00 00 40 00 00 00 00 40 06 00 00 ${V4_ADDRS} # total length 64, snap-cut at 40\n ${TCP_20}`, 101, {}, 64);
  t.same(r.an, { payload_truncated: 1 }, 'snap-cut frames are not malformed');
  r = decode(`45 00 00 00 00 00 00 00 40 11 00 00 ${V4_ADDRS} # total length 0 (TSO)
    00 35 c0 00 00 0c 00 00 # UDP 53 -> 49152, length 12
    61 62 63 64`);
  t.same(r.an, { ipv4_zero_total_length: 1 });
  t.equal(r.out.l4, L4.UDP);
  t.equal(payload(r.out), 'abcd', 'the captured length stands in for the total length');
});

t.test('TCP options of a SYN: MSS, SACK-permitted, timestamps, NOP, window scale; NS flag', async (t) => {
  const { out, an } = decode(`
    45 00 00 3c 00 00 40 00 40 06 00 00 ${V4_ADDRS}
    c3 50 00 16         # source port 50000 | destination port 22
    00 00 00 01         # sequence 1
    00 00 00 00         # acknowledgment 0
    a1 12 fa f0         # data offset 10 (40 bytes), NS | SYN+ACK | window 64240
    00 00 00 00         # checksum | urgent
    02 04 05 b4         # MSS 1460
    04 02               # SACK permitted
    08 0a 00 01 e2 40 ff ff ff ff   # timestamps: TSval 123456, TSecr 4294967295
    01                  # NOP
    03 03 07            # window scale 7
  `);
  t.same(an, {});
  t.equal(out.tcpFlags, TCP_NS | TCP_SYN | TCP_ACK);
  t.equal(out.tcpMss, 1460);
  t.equal(out.tcpSackPermitted, true);
  t.equal(out.tcpTsVal, 123456);
  t.equal(out.tcpTsEcr, 4294967295);
  t.equal(out.tcpWscale, 7);
  t.equal(out.payloadOffset, 60);
});

t.test('TCP SACK blocks and bad options', async (t) => {
  const head = (len: number, doff: string) =>
    `45 00 00 ${len.toString(16).padStart(2, '0')} 00 00 40 00 40 06 00 00 ${V4_ADDRS}
     c3 50 00 16 00 00 00 01 00 00 00 01 ${doff} 10 01 00 00 00 00 00 # ports, seq, ack, offset, ACK, window 256\n`;
  let r = decode(head(64, 'a0') + `01 01 05 12 00 00 00 0a 00 00 00 14 00 00 00 1e 00 00 00 28 # NOP NOP SACK 2 blocks\n`
    + `78 79 7a 21 # payload "xyz!"`);
  t.same(r.an, {});
  t.equal(payload(r.out), 'xyz!');
  r = decode(head(48, '70') + `02 03 05 01 01 01 01 01 # MSS with length 3\n`);
  t.same(r.an, { tcp_bad_option: 1 });
  t.equal(r.out.tcpMss, -1);
  r = decode(head(48, '70') + `01 01 1e 00 00 00 00 00 # option kind 30 with length 0\n`);
  t.same(r.an, { tcp_bad_option: 1 });
  r = decode(head(48, '70') + `01 01 08 0a 00 00 00 01 # timestamps running past the header\n`);
  t.same(r.an, { tcp_bad_option: 1 });
  t.equal(r.out.tcpTsVal, -1);
  r = decode(head(48, '70') + `05 07 00 00 00 01 00 01 # SACK with length 7, NOP\n`);
  t.same(r.an, { tcp_bad_option: 1 }, 'SACK length 7 is not 2 + 8n');
  r = decode(head(40, '40'));
  t.same(r.an, { tcp_bad_header_length: 1 }, 'data offset 4');
  t.equal(r.out.l4, L4.None);
  t.equal(r.out.srcPort, 0);
  r = decode(head(40, 'f0'));
  t.same(r.an, { tcp_bad_header_length: 1 }, 'data offset 15 beyond a 20-byte segment');
  r = decode(`45 00 00 22 00 00 40 00 40 06 00 00 ${V4_ADDRS}
    c3 50 00 16 00 00 00 01 00 00 00 01 50 10 # 14 bytes of TCP`);
  t.same(r.an, { tcp_truncated: 1 });
  t.equal(r.out.l4, L4.None);
});

t.test('UDP lengths', async (t) => {
  const ip = (total: number) =>
    `45 00 00 ${total.toString(16).padStart(2, '0')} 00 00 00 00 40 11 00 00 ${V4_ADDRS}`;
  let r = decode(ip(36) + `00 35 00 35 00 0c 00 00 # UDP length 12 of 16\n 61 62 63 64\n 65 66 67 68 # after the datagram`);
  t.same(r.an, {});
  t.equal(payload(r.out), 'abcd', 'bytes after the UDP length are not payload');
  t.equal(r.out.payloadWireLength, 4);
  r = decode(ip(32) + `00 35 00 35 00 10 00 00 # UDP length 16 > 12 of IP payload\n 61 62 63 64`);
  t.same(r.an, { udp_bad_length: 1 });
  t.equal(payload(r.out), 'abcd', 'the IP payload length is used');
  r = decode(ip(32) + `00 35 00 35 00 04 00 00 # UDP length 4 < 8\n 61 62 63 64`);
  t.same(r.an, { udp_bad_length: 1 });
  t.equal(r.out.l4, L4.UDP);
  r = decode(ip(26) + `00 35 00 35 00 06 # 6 bytes`);
  t.same(r.an, { udp_truncated: 1 });
  t.equal(r.out.l4, L4.None);
});

t.test('ICMP, ICMPv6 and other protocols', async (t) => {
  let r = decode(`45 00 00 20 00 00 00 00 40 01 00 00 ${V4_ADDRS}
    08 00 00 00         # echo request, code 0, checksum
    00 01 00 02         # identifier 1, sequence 2
    70 69 6e 67         # "ping"`);
  t.same(r.an, {});
  t.equal(r.out.l4, L4.ICMP);
  t.equal(r.out.icmpType, 8);
  t.equal(r.out.icmpCode, 0);
  t.equal(r.out.srcPort, 0);
  t.equal(r.out.payloadOffset, 24, 'payload after type, code, checksum');
  t.equal(r.out.payloadLength, 8);
  r = decode(`60 00 00 00 00 08 3a ff ${V6_ADDRS}
    87 00 00 00         # ICMPv6 neighbor solicitation, code 0
    00 00 00 00         # reserved`);
  t.same(r.an, {});
  t.equal(r.out.l4, L4.ICMPv6);
  t.equal(r.out.icmpType, 135);
  t.equal(r.out.ipProto, 58);
  r = decode(`45 00 00 16 00 00 00 00 40 01 00 00 ${V4_ADDRS} 03 01 # type and code only`);
  t.same(r.an, { icmp_truncated: 1 });
  t.equal(r.out.l4, L4.None);
  r = decode(`45 00 00 1c 00 00 00 00 40 2f 00 00 ${V4_ADDRS}
    00 00 08 00 45 00 00 00 # GRE (47): not decoded`);
  t.same(r.an, {});
  t.equal(r.out.l4, L4.Other);
  t.equal(r.out.ipProto, 47);
  t.equal(r.out.payloadOffset, 20);
  t.equal(r.out.payloadLength, 8);
});

t.test('IPv6 extension header chain', async (t) => {
  const { out, an } = decode(`
    60 00 00 00
    00 4c 00 40         # payload length 76 | next header 0 (hop-by-hop) | hop limit 64
    ${V6_ADDRS}
    3c 00 01 04 00 00 00 00   # hop-by-hop: next 60, length 8, PadN
    2b 00 01 04 00 00 00 00   # destination options: next 43, PadN
    2c 00 00 00 00 00 00 00   # routing: next 44, type 0, segments left 0
    33 00 00 00 ca fe ba be   # fragment: next 51, offset 0, M 0 (atomic), id 0xcafebabe
    06 04 00 00               # AH: next 6 (TCP), length (4+2)*4 = 24
    00 00 01 00 00 00 00 07   # SPI 256, sequence 7
    00 00 00 00 00 00 00 00 00 00 00 00   # ICV (96 bits)
    ${TCP_20}
  `);
  t.same(an, {});
  t.equal(out.ipProto, 6);
  t.equal(out.l4, L4.TCP);
  t.equal(out.ipId, 0xcafebabe, 'atomic fragment id');
  t.equal(out.fragmentHeld, false);
  t.equal(out.srcPort, 12345);
  t.equal(out.payloadOffset, 40 + 56 + 20);
  t.same([...out.src6], [0xfe800000, 0, 0, 1]);
  t.same([...out.dst6], [0xff020000, 0, 0, 0xfb]);
  t.equal(out.ttl, 64);
  t.equal(out.src4, 0);
});

t.test('IPv6 extension header errors, no next header', async (t) => {
  let r = decode(`60 00 00 00 00 08 3b 40 ${V6_ADDRS} 00 00 00 00 00 00 00 00 # next header 59, 8 bytes to ignore`);
  t.same(r.an, {});
  t.equal(r.out.ipProto, 59);
  t.equal(r.out.l4, L4.Other);
  t.equal(r.out.payloadLength, 0);
  const many = '3c 00 00 00 00 00 00 00 '.repeat(17); // 17 destination options headers, each pointing to the next
  r = decode(`60 00 00 00 00 88 3c 40 ${V6_ADDRS} ${many}`);
  t.same(r.an, { ipv6_ext_too_many: 1 });
  t.equal(r.out.l4, L4.None);
  r = decode(`60 00 00 00 00 10 00 40 ${V6_ADDRS}
    11 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 # a 24-byte hop-by-hop header in 16 bytes`);
  t.same(r.an, { ipv6_ext_truncated: 1 });
  t.equal(r.out.ipProto, 0);
  r = decode(`60 00 00 00 00 40 11 40 ${V6_ADDRS} 00 35 00 35 00 0c 00 00 61 62 63 64 # payload length 64 > 12`);
  t.same(r.an, { ipv6_bad_payload_length: 1 }, 'the UDP length (12) says the datagram is complete');
  t.equal(payload(r.out), 'abcd');
  r = decode(`50 00 00 00 00 00 11 40 ${V6_ADDRS}`, 229);
  t.same(r.an, { ip_bad_version: 1 });
  r = decode(`60 00 00 00 00 00 11 40 ${V6_ADDRS} 00 35 00 35 00 0c 00 00 61 62 63 64 # payload length 0, no jumbo option`);
  t.same(r.an, { ipv6_zero_payload_length: 1 });
  t.equal(payload(r.out), 'abcd');
});

t.test('IPv6 jumbogram with UDP length 0', async (t) => {
  const head = hex(`
    60 00 00 00 00 00 00 40   # payload length 0 | next header hop-by-hop
    ${V6_ADDRS}
    11 00 c2 04 00 01 00 08   # hop-by-hop: next UDP, Jumbo Payload option: 65544
    13 88 13 89 00 00 00 00   # UDP 5000 -> 5001, length 0 (jumbogram)
  `);
  const pkt = new Uint8Array(40 + 65544);
  pkt.set(head);
  pkt[pkt.length - 1] = 0x7a;
  const { out, an } = decode(pkt, 229);
  t.same(an, {});
  t.equal(out.l4, L4.UDP);
  t.equal(out.srcPort, 5000);
  t.equal(out.payloadWireLength, 65544 - 16);
  t.equal(out.payloadLength, 65544 - 16);
  const bad = decode(`60 00 00 00 00 00 00 40 ${V6_ADDRS}
    11 00 c2 04 00 00 ff ff # jumbo length 65535: not a jumbogram
    00 35 00 35 00 00 00 00`);
  t.same(bad.an, { ipv6_bad_payload_length: 1 });
});

// GTP-U: IPv4/UDP to port 2152 around an inner IPv4/UDP packet.
const INNER_V4 = `
  45 00 00 20 00 63 00 00 40 11 00 00   # inner IPv4, total length 32, id 99, UDP
  0a 2d 00 07                           # inner source 10.45.0.7
  08 08 08 08                           # inner destination 8.8.8.8
  c0 01 00 35 00 0c 00 00               # UDP 49153 -> 53, length 12
  71 75 65 72                           # "quer"
`;
function outerV4(gtpLen: number): string {
  const total = 28 + gtpLen;
  const udp = 8 + gtpLen;
  return `
    45 00 ${(total >> 8).toString(16).padStart(2, '0')} ${(total & 255).toString(16).padStart(2, '0')}
    00 00 00 00 40 11 00 00
    c0 a8 00 01 c0 a8 00 02               # 192.168.0.1 -> 192.168.0.2
    08 68 08 68                           # UDP 2152 -> 2152
    ${(udp >> 8).toString(16).padStart(2, '0')} ${(udp & 255).toString(16).padStart(2, '0')} 00 00 # UDP length
  `;
}

function assertInner(t: TT, out: DecodedPacket, teid: number, depth = 1): void {
  t.equal(out.tunnelDepth, depth, 'tunnel depth');
  t.equal(out.gtpTeid, teid, 'TEID');
  t.equal(out.net, Net.IPv4);
  t.equal(out.src4, 0x0a2d0007, 'inner source');
  t.equal(out.dst4, 0x08080808, 'inner destination');
  t.equal(out.ipId, 99);
  t.equal(out.l4, L4.UDP);
  t.equal(out.srcPort, 49153);
  t.equal(out.dstPort, 53);
  t.equal(payload(out), 'quer');
}
type TT = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('GTP-U G-PDU without optional fields', async (t) => {
  const { out, an } = decode(outerV4(40) + `
    30 ff 00 20         # version 1, PT 1, no E/S/PN | G-PDU | length 32
    00 00 04 d2         # TEID 1234
  ` + INNER_V4);
  t.same(an, {});
  assertInner(t, out, 1234);
  t.equal(out.payloadOffset, 28 + 8 + 28);
});

t.test('GTP-U with a sequence number', async (t) => {
  const { out, an } = decode(outerV4(44) + `
    32 ff 00 24         # S set | G-PDU | length 36
    ff ff ff ff         # TEID 4294967295
    12 34 00 00         # sequence 0x1234, N-PDU 0, no extension
  ` + INNER_V4);
  t.same(an, {});
  assertInner(t, out, 4294967295);
});

t.test('GTP-U with two extension headers, inner IPv6', async (t) => {
  const INNER_V6 = `
    60 00 00 00 00 0c 11 40 ${V6_ADDRS}
    c0 01 00 35 00 0c 00 00 71 75 65 72   # UDP 49153 -> 53, "quer"
  `;
  const { out, an } = decode(outerV4(72) + `
    34 ff 00 40         # E set | G-PDU | length 64
    00 00 00 2a         # TEID 42
    00 00 00 85         # sequence, N-PDU (not valid without S/PN) | next extension: PDU session container
    01 00 09 40         # length 1 (4 bytes), QFI 9, next: UDP port
    01 08 68 00         # length 1, port 2152, no further extension
  ` + INNER_V6);
  t.same(an, {});
  t.equal(out.tunnelDepth, 1);
  t.equal(out.gtpTeid, 42);
  t.equal(out.net, Net.IPv6);
  t.equal(out.src4, 0, 'outer IPv4 addresses cleared');
  t.same([...out.src6], [0xfe800000, 0, 0, 1]);
  t.equal(out.srcPort, 49153);
  t.equal(payload(out), 'quer');
});

t.test('GTP-U messages that are not tunnelled IP', async (t) => {
  let r = decode(outerV4(12) + `32 01 00 04 00 00 00 00 00 01 00 00 # echo request, sequence 1`);
  t.same(r.an, {});
  t.equal(r.out.tunnelDepth, 0);
  t.equal(r.out.gtpTeid, -1);
  t.equal(r.out.srcPort, 2152);
  t.equal(r.out.src4, 0xc0a80001);
  r = decode(outerV4(40) + `50 ff 00 20 00 00 04 d2 # version 2\n` + INNER_V4);
  t.same(r.an, { gtp_bad_version: 1 });
  t.equal(r.out.tunnelDepth, 0);
  r = decode(outerV4(12) + `30 ff 00 04 00 00 04 d2 00 00 00 00 # T-PDU starting with nibble 0`);
  t.same(r.an, { gtp_non_ip: 1 });
  t.equal(r.out.srcPort, 2152);
  r = decode(outerV4(48) + `34 ff 00 28 00 00 04 d2 00 00 00 85 00 00 00 00 # extension length 0\n` + INNER_V4);
  t.same(r.an, { gtp_bad_extension: 1 });
  t.equal(r.out.tunnelDepth, 0);
  r = decode(outerV4(40) + `30 ff 00 40 00 00 04 d2 # length 64 > 32 left\n` + INNER_V4);
  t.same(r.an, { gtp_bad_length: 1 }, 'a too long GTP length is counted, the UDP length bounds the T-PDU');
  t.equal(r.out.tunnelDepth, 1);
  r = decode(outerV4(6) + `30 ff 00 20 00 00 # 6 bytes`);
  t.same(r.an, { gtp_truncated: 1 });
});

t.test('nested GTP-U and the tunnel depth limit', async (t) => {
  // outer IPv4/UDP/GTP(TEID 1) / IPv4/UDP/GTP(TEID 2) / inner IPv4/UDP
  const middle = `
    45 00 00 44 00 00 00 00 40 11 00 00   # middle IPv4, total length 68
    ac 10 00 01 ac 10 00 02               # 172.16.0.1 -> 172.16.0.2
    08 68 08 68 00 30 00 00               # UDP 2152 -> 2152, length 48
    30 ff 00 20 00 00 00 02               # G-PDU, length 32, TEID 2
  `;
  const pkt = outerV4(76) + `30 ff 00 44 00 00 00 01 # G-PDU, length 68, TEID 1\n` + middle + INNER_V4;
  let r = decode(pkt);
  t.same(r.an, {});
  assertInner(t, r.out, 2, 2);
  r = decode(pkt, 101, { maxTunnelDepth: 1 });
  t.same(r.an, { tunnel_too_deep: 1 });
  t.equal(r.out.tunnelDepth, 1);
  t.equal(r.out.gtpTeid, 1);
  t.equal(r.out.src4, 0xac100001, 'the middle packet');
  t.equal(r.out.srcPort, 2152);
  t.equal(r.out.l4, L4.UDP);
  r = decode(pkt, 101, { maxTunnelDepth: 0 });
  t.same(r.an, { tunnel_too_deep: 1 });
  t.equal(r.out.tunnelDepth, 0);
  t.equal(r.out.src4, 0xc0a80001);
});

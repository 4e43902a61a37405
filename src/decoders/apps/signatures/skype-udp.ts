/**
 * Skype's own UDP protocol (peer-to-peer Skype, before the move to Microsoft's servers): a datagram starts with a
 * 2-byte object id and a type byte whose low nibble says what follows (0x02 payload, 0x03 resend, 0x05 and 0x07 CRC
 * error, 0x0D audio, 0x0F fragment); the rest is encrypted. Facts: nDPI `skype.c` (first datagram of 16 bytes or more
 * with 0x02 at offset 2), the OpenSkype notes (the type values), `skype_udp.pcap`.
 *
 * This is weak (one byte of the first datagram), so it needs both sides: the client's first datagram of type 0x02
 * with a first byte below 0x40 (not RTP, QUIC or SNMP), and the answer's first datagram of a known type; it is
 * asked last, after every other UDP analyzer, and leaves well-known service ports alone. DNSCrypt, which nDPI once
 * took for Skype (`negatives/dnscrypt_skype_false_positive.pcapng`), fails the first-byte and the answer tests.
 */
import { Probe, type Dir, type ImProtocol } from '../../im/types.js';
import { NO_ANOMALIES, Verdict, signatureSession } from './common.js';

/** Ports of other services where the shape may occur by chance (DNS, NTP, SNMP, IKE, Battle.net, DNSCrypt/QUIC on 443). */
const NOT_ON = new Set([53, 123, 161, 162, 443, 500, 1119, 4500, 5353]);

function clientFirst(data: Uint8Array, off: number, len: number): boolean {
  return len >= 16 && data[off + 2] === 0x02 && data[off]! < 0x40 && data[off] !== 0x30;
}

function knownType(b: number): boolean {
  const t = b & 0x0f;
  return t === 0x02 || t === 0x03 || t === 0x05 || t === 0x07 || t === 0x0d || t === 0x0f;
}

export function probeSkypeUdp(data: Uint8Array, off: number, len: number, dir: Dir, _midstream: boolean): Probe {
  return dir === 0 && clientFirst(data, off, len) ? Probe.Yes : Probe.No;
}

export const skypeUdp: ImProtocol = {
  id: 'skype-udp',
  name: 'Skype (peer-to-peer UDP)',
  transport: 'udp',
  app: 'skype',
  ports: [],
  probe: probeSkypeUdp,
  createSession: (ctx) =>
    signatureSession(ctx, {
      app: 'skype',
      kind: 'call',
      confidence: 0.6,
      budget: 8,
      matcher: () => {
        const skip = NOT_ON.has(ctx.serverPort) || NOT_ON.has(ctx.clientPort);
        return (dir, data, off, len) => {
          if (skip) return Verdict.No;
          if (dir === 0) return Verdict.More;
          return len >= 16 && knownType(data[off + 2]!) ? Verdict.Match : Verdict.No;
        };
      },
    }),
  limits: { budget: 8 },
  anomalies: NO_ANOMALIES,
};

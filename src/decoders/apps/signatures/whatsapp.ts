/**
 * WhatsApp chat over TCP (443, 5222): the client's first bytes are the Noise Pipes prologue "WA" + protocol major and
 * minor version (WA 1.5 in the 2015 capture, WA 5.x and later in current clients), optionally preceded by the edge
 * routing header "ED" 0x00 0x01 + a 3-byte length + routing data (a protobuf, first tag 0x08). After the prologue
 * the stream is Noise-encrypted. Facts: nDPI `whatsapp.c` (the three prefixes), WhatsApp's security whitepaper (Noise
 * Pipes), `whatsapp_login_*.pcap`.
 */
import { Probe, type Dir, type ImProtocol } from '../../im/types.js';
import { NO_ANOMALIES, Verdict, signatureSession } from './common.js';

const W = 0x57;
const A = 0x41;
const E = 0x45;
const D = 0x44;

/** 1: the prologue is there; 0: not WhatsApp; -1: too short to tell. */
export function whatsappPrologue(data: Uint8Array, off: number, len: number): 1 | 0 | -1 {
  const b0 = len > 0 ? data[off]! : -1;
  if (b0 === W) {
    if (len < 4) return len >= 2 && data[off + 1] !== A ? 0 : -1;
    const major = data[off + 2]!;
    const minor = data[off + 3]!;
    return data[off + 1] === A && major >= 1 && major <= 9 && minor <= 15 ? 1 : 0;
  }
  if (b0 === E) {
    // Edge routing: "ED" 00 01, a 3-byte length (nDPI saw 2 and 4), then the routing protobuf (tag 0x08).
    if (len < 8) {
      const want = [E, D, 0, 1];
      for (let i = 1; i < Math.min(len, 4); i++) if (data[off + i] !== want[i]) return 0;
      return -1;
    }
    if (data[off + 1] !== D || data[off + 2] !== 0 || data[off + 3] !== 1) return 0;
    const rlen = (data[off + 4]! << 16) | (data[off + 5]! << 8) | data[off + 6]!;
    return rlen >= 1 && rlen <= 64 && data[off + 7] === 0x08 ? 1 : 0;
  }
  return len === 0 ? -1 : 0;
}

export function probeWhatsapp(data: Uint8Array, off: number, len: number, dir: Dir, midstream: boolean): Probe {
  if (dir !== 0 || midstream) return Probe.No;
  const r = whatsappPrologue(data, off, len);
  return r === 1 ? Probe.Yes : r === 0 ? Probe.No : Probe.Need;
}

export const whatsapp: ImProtocol = {
  id: 'whatsapp',
  name: 'WhatsApp chat (Noise prologue)',
  transport: 'tcp',
  app: 'whatsapp',
  ports: [5222, 443],
  probe: probeWhatsapp,
  createSession: (ctx) =>
    signatureSession(ctx, {
      app: 'whatsapp',
      kind: 'chat',
      confidence: 0.9,
      budget: 4,
      encryptedAs: 'noise',
      matcher: () => (dir, data, off, len) => {
        if (dir !== 0) return Verdict.No;
        const r = whatsappPrologue(data, off, len);
        return r === 1 ? Verdict.Match : r === 0 ? Verdict.No : Verdict.More;
      },
    }),
  limits: { budget: 4 },
  anomalies: NO_ANOMALIES,
};

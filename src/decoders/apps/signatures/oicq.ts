/**
 * OICQ, Tencent QQ's UDP protocol (port 8000): a datagram starts with 0x02 (STX), a 2-byte client version, a 2-byte
 * command (1-0xB5, or 0x03F7), a 2-byte sequence, and ends with 0x03 (ETX). Facts: nDPI `oicq.c` (start byte, command
 * range; nDPI also pins the version to 0x3B0B, a single client build, which is not required here), Wireshark's OICQ
 * dissector (the ETX at the end), `oicq.pcap` (login packets to 8000, one datagram each).
 */
import { Probe, type Dir, type ImProtocol } from '../../im/types.js';
import { NO_ANOMALIES, Verdict, signatureSession, u16 } from './common.js';

export function isOicq(data: Uint8Array, off: number, len: number): boolean {
  if (len < 12 || data[off] !== 0x02 || data[off + len - 1] !== 0x03) return false;
  const version = u16(data, off + 1);
  const command = u16(data, off + 3);
  return version !== 0 && ((command >= 1 && command <= 0xb5) || command === 0x03f7);
}

export function probeOicq(data: Uint8Array, off: number, len: number, _dir: Dir, _midstream: boolean): Probe {
  return isOicq(data, off, len) ? Probe.Yes : Probe.No;
}

export const oicq: ImProtocol = {
  id: 'oicq',
  name: 'OICQ (Tencent QQ over UDP)',
  transport: 'udp',
  app: 'qq',
  ports: [8000, 8001],
  probe: probeOicq,
  createSession: (ctx) =>
    signatureSession(ctx, {
      app: 'qq',
      kind: 'chat',
      confidence: 0.9,
      budget: 4,
      matcher: () => (_dir, data, off, len) => (isOicq(data, off, len) ? Verdict.Match : Verdict.No),
    }),
  limits: { budget: 4 },
  anomalies: NO_ANOMALIES,
};

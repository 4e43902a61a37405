/**
 * DingTalk (Alibaba) chat connection over TCP 443 without TLS: the client's first message starts with 0x10, one
 * length byte, then 14 fixed bytes (87 80 01 00 01 00 02 00 02 'd' 'k' 03 00 20). Facts: nDPI `dingtalk.c`,
 * `dingtalk.pcap`. The other DingTalk flow of that capture is TLS (named by its server name, not here).
 */
import { Probe, type Dir, type ImProtocol } from '../../im/types.js';
import { NO_ANOMALIES, Verdict, signatureSession } from './common.js';

const FIXED = [0x87, 0x80, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00, 0x02, 0x64, 0x6b, 0x03, 0x00, 0x20];

/** 1 match, 0 not DingTalk, -1 too short to tell. */
export function dingtalkHello(data: Uint8Array, off: number, len: number): 1 | 0 | -1 {
  if (len === 0) return -1;
  if (data[off] !== 0x10) return 0;
  for (let i = 0; i < FIXED.length && 2 + i < len; i++) if (data[off + 2 + i] !== FIXED[i]) return 0;
  return len >= 2 + FIXED.length ? 1 : -1;
}

export function probeDingtalk(data: Uint8Array, off: number, len: number, dir: Dir, midstream: boolean): Probe {
  if (dir !== 0 || midstream) return Probe.No;
  const r = dingtalkHello(data, off, len);
  return r === 1 ? Probe.Yes : r === 0 ? Probe.No : Probe.Need;
}

export const dingtalk: ImProtocol = {
  id: 'dingtalk',
  name: 'DingTalk (plain connection on 443)',
  transport: 'tcp',
  app: 'dingtalk',
  ports: [443],
  probe: probeDingtalk,
  createSession: (ctx) =>
    signatureSession(ctx, {
      app: 'dingtalk',
      kind: 'chat',
      confidence: 0.9,
      budget: 4,
      matcher: () => (dir, data, off, len) => {
        if (dir !== 0) return Verdict.No;
        const r = dingtalkHello(data, off, len);
        return r === 1 ? Verdict.Match : r === 0 ? Verdict.No : Verdict.More;
      },
    }),
  limits: { budget: 4 },
  anomalies: NO_ANOMALIES,
};

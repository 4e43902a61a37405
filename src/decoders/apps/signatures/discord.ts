/**
 * Discord voice over UDP: the IP discovery exchange when the call starts (a 74-byte request of type 0x0001 and length
 * 70, answered by type 0x0002 with the client's public address), and the 8-byte keep-alive both sides send during the
 * call, 0x1337CAFE and a 4-byte counter. Facts: Discord's developer documentation (Voice, "IP Discovery"), nDPI
 * `discord.c` (the keep-alive), `discord_mid_flow.pcap` (a call picked up in the middle: RTCP, then keep-alives).
 */
import { Probe, type Dir, type ImProtocol } from '../../im/types.js';
import { NO_ANOMALIES, Verdict, signatureSession, u32 } from './common.js';

const KEEPALIVE = 0x1337cafe;
const DISCOVERY_REQUEST = 0x00010046;
const DISCOVERY_RESPONSE = 0x00020046;
/** Bytes of one direction the probe waits for a keep-alive when the flow starts with RTP/RTCP (a call joined late). */
const PROBE_BYTES = 600;

export function probeDiscord(data: Uint8Array, off: number, len: number, _dir: Dir, _midstream: boolean): Probe {
  if (len >= 4 && u32(data, off) === DISCOVERY_REQUEST) return len >= 74 ? Probe.Yes : Probe.No;
  // Datagrams of a direction come one after another in the probe's buffer: look for a keep-alive among them.
  for (let i = off, e = off + len - 8; i <= e; i++) if (data[i] === 0x13 && u32(data, i) === KEEPALIVE) return Probe.Yes;
  const b0 = len > 0 ? data[off]! : 0;
  return len < PROBE_BYTES && b0 >= 0x80 && b0 <= 0xbf ? Probe.Need : Probe.No;
}

export const discord: ImProtocol = {
  id: 'discord',
  name: 'Discord voice (IP discovery, keep-alive)',
  transport: 'udp',
  app: 'discord',
  ports: [50001, 50002, 50003, 50004],
  probe: probeDiscord,
  createSession: (ctx) =>
    signatureSession(ctx, {
      app: 'discord',
      kind: 'call',
      confidence: 0.9,
      budget: 32,
      matcher: () => {
        let asked = false;
        return (dir, data, off, len) => {
          if (len === 8 && u32(data, off) === KEEPALIVE) return Verdict.Match;
          if (len === 74 && u32(data, off) === DISCOVERY_REQUEST && dir === 0) asked = true;
          else if (asked && len === 74 && dir === 1 && u32(data, off) === DISCOVERY_RESPONSE) return Verdict.Match;
          return Verdict.More;
        };
      },
    }),
  limits: { budget: 32, probeBytes: PROBE_BYTES },
  anomalies: NO_ANOMALIES,
};

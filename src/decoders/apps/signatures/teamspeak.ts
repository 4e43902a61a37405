/**
 * TeamSpeak 3 voice server handshake (UDP 9987): the "Init1" packets are the only unencrypted ones; their 8-byte MAC
 * field is the ASCII text "TS3INIT1", followed by packet id 101 (0x0065). Facts: nDPI `teamspeak.c` (the MAC text),
 * the TS3 protocol descriptions of the open clients (TS3AudioBot, tsclientlib: header layout, packet id 101, type
 * 0x88), `teamspeak3.pcap`. TeamSpeak's server-to-accounting traffic (UDP 2010/2011 in the same capture) has no
 * documented signature and is left out (README).
 */
import { Probe, type Dir, type ImProtocol } from '../../im/types.js';
import { NO_ANOMALIES, Verdict, signatureSession, startsWith, u16 } from './common.js';

const MAC = [0x54, 0x53, 0x33, 0x49, 0x4e, 0x49, 0x54, 0x31]; // TS3INIT1

export function isTs3Init(data: Uint8Array, off: number, len: number): boolean {
  return len >= 11 && startsWith(data, off, len, MAC) && u16(data, off + 8) === 101;
}

export function probeTeamspeak(data: Uint8Array, off: number, len: number, _dir: Dir, _midstream: boolean): Probe {
  return isTs3Init(data, off, len) ? Probe.Yes : Probe.No;
}

export const teamspeak: ImProtocol = {
  id: 'teamspeak',
  name: 'TeamSpeak 3 (Init1 handshake)',
  transport: 'udp',
  app: 'teamspeak',
  ports: [9987],
  probe: probeTeamspeak,
  createSession: (ctx) =>
    signatureSession(ctx, {
      app: 'teamspeak',
      kind: 'call',
      confidence: 0.95,
      budget: 4,
      matcher: () => (_dir, data, off, len) => (isTs3Init(data, off, len) ? Verdict.Match : Verdict.No),
    }),
  limits: { budget: 4 },
  anomalies: NO_ANOMALIES,
};

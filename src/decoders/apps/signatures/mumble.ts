/**
 * Mumble's UDP ping (the server list and connection test, port 64738): the client sends 12 bytes, a 4-byte zero
 * request type and an 8-byte identifier; the server answers 24 bytes: its version (4), the same identifier (8), users,
 * maximum users and bandwidth (4 each). Facts: Mumble's protocol documentation ("UDP ping packet"), nDPI `mumble.c`,
 * `mumble.pcapng`. The voice itself is encrypted (OCB2-AES128) and not recognised; the TCP control channel is TLS.
 */
import { Probe, type Dir, type ImProtocol } from '../../im/types.js';
import { NO_ANOMALIES, Verdict, signatureSession, u32 } from './common.js';

export function probeMumble(data: Uint8Array, off: number, len: number, dir: Dir, _midstream: boolean): Probe {
  return dir === 0 && len === 12 && u32(data, off) === 0 ? Probe.Yes : Probe.No;
}

export const mumble: ImProtocol = {
  id: 'mumble',
  name: 'Mumble (UDP ping)',
  transport: 'udp',
  app: 'mumble',
  ports: [64738],
  probe: probeMumble,
  createSession: (ctx) =>
    signatureSession(ctx, {
      app: 'mumble',
      kind: 'call',
      confidence: 0.9,
      budget: 4,
      matcher: () => {
        const ident = new Uint8Array(8);
        let asked = false;
        return (dir, data, off, len) => {
          if (dir === 0) {
            if (len !== 12 || u32(data, off) !== 0) return Verdict.No;
            ident.set(data.subarray(off + 4, off + 12));
            asked = true;
            return Verdict.More;
          }
          if (!asked || len !== 24) return Verdict.No;
          for (let i = 0; i < 8; i++) if (data[off + 4 + i] !== ident[i]) return Verdict.No;
          return Verdict.Match;
        };
      },
    }),
  limits: { budget: 4 },
  anomalies: NO_ANOMALIES,
};

/**
 * IMO calls over UDP: the call's small control datagrams are 0x09, 0x02 (request) or 0x03 (answer), a 2-byte
 * identifier, then 0x02 and five zero bytes (10 bytes), the answer from a relay with one leading zero byte (11 bytes).
 * Facts: nDPI `imo.c` (10 bytes starting 09 02; 11 bytes starting 00 09 03), `imo.pcap` (the fixed tail, seen in both
 * flows, with a peer and with a relay). nDPI's other IMO rule (two consecutive 1-byte datagrams with the same value) is
 * too weak to use alone and is left out.
 */
import { Probe, type Dir, type ImProtocol } from '../../im/types.js';
import { NO_ANOMALIES, Verdict, signatureSession } from './common.js';

/** Bytes of one direction the probe waits for before giving up (the control datagrams come among the first). */
const PROBE_BYTES = 600;

function controlAt(data: Uint8Array, at: number): boolean {
  return (
    data[at] === 0x09 &&
    (data[at + 1] === 0x02 || data[at + 1] === 0x03) &&
    data[at + 4] === 0x02 &&
    data[at + 5] === 0 &&
    data[at + 6] === 0 &&
    data[at + 7] === 0 &&
    data[at + 8] === 0 &&
    data[at + 9] === 0
  );
}

/** One datagram: the 10-byte control message, or the 11-byte one with a leading zero. */
export function isImoControl(data: Uint8Array, off: number, len: number): boolean {
  return (len === 10 && controlAt(data, off)) || (len === 11 && data[off] === 0 && controlAt(data, off + 1));
}

/**
 * The probe sees a direction's datagrams one after the other in one buffer: it looks for the control message at any
 * offset among the first PROBE_BYTES (the session then checks it is a whole datagram).
 */
export function probeImo(data: Uint8Array, off: number, len: number, _dir: Dir, _midstream: boolean): Probe {
  for (let i = off, e = off + len - 10; i <= e; i++) if (controlAt(data, i)) return Probe.Yes;
  return len < PROBE_BYTES ? Probe.Need : Probe.No;
}

export const imo: ImProtocol = {
  id: 'imo',
  name: 'IMO (call control over UDP)',
  transport: 'udp',
  app: 'imo',
  ports: [],
  probe: probeImo,
  createSession: (ctx) =>
    signatureSession(ctx, {
      app: 'imo',
      kind: 'call',
      confidence: 0.8,
      budget: 16,
      matcher: () => (_dir, data, off, len) => (isImoControl(data, off, len) ? Verdict.Match : Verdict.More),
    }),
  limits: { budget: 16, probeBytes: PROBE_BYTES },
  anomalies: NO_ANOMALIES,
};

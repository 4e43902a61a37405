/**
 * TLS probe: the first bytes of a direction are a TLS handshake record (RFC 8446 §5.1: content type 22, legacy
 * record version 0x0300–0x0304 — 0x0300 for SSL 3.0 hellos, 0x0301 is what most clients put on their first record —, a
 * length in 1..maxRecordBytes) whose first handshake message is a ClientHello from the client, or a ServerHello from
 * the server (a flow whose ClientHello was not captured). Anything else is No at once. SSL 2.0 ClientHellos are not
 * recognised.
 */
import { Probe, type Dir } from '../../im/types.js';
import { TLS_LIMITS } from './limits.js';

export function probeTls(data: Uint8Array, off: number, len: number, dir: Dir, _midstream: boolean): Probe {
  if (len < 1) return Probe.Need;
  if (data[off] !== 22) return Probe.No;
  if (len < 2) return Probe.Need;
  if (data[off + 1] !== 3) return Probe.No;
  if (len < 3) return Probe.Need;
  if (data[off + 2]! > 4) return Probe.No;
  if (len < 5) return Probe.Need;
  const rl = (data[off + 3]! << 8) | data[off + 4]!;
  if (rl === 0 || rl > TLS_LIMITS.maxRecordBytes) return Probe.No;
  if (len < 6) return Probe.Need;
  const hs = data[off + 5];
  return hs === (dir === 0 ? 1 : 2) ? Probe.Yes : Probe.No;
}

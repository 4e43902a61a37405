/**
 * The DNS probe. It does not know the transport, so it tries both framings of the bytes it is given:
 *
 * - as one whole message (a UDP datagram: DNS, mDNS, LLMNR): Yes when the header is sane and every question and
 *   record reads and the last record ends exactly where the datagram does; otherwise
 * - as DNS over TCP (RFC 1035 §4.2.2, RFC 7766): a 2-byte length of at least 12, then a message. Yes when the whole
 *   message is there and walks as above, or when it is not all there yet but its header and every question are (a
 *   large response); Need while the header or a question is still cut; No otherwise.
 *
 * NetBIOS name service (UDP 137) uses the DNS layout with its own names (a 32-byte label of the letters A–P, type NB or
 * NBSTAT): it is not DNS and says No. Random bytes (DNSCrypt, encrypted media) fail the header rules at once: a known
 * opcode, Z clear, an assigned RCODE, counts that fit, known classes, then names that parse with backward pointers.
 */
import { Probe, type Dir } from '../../im/types.js';
import { DNS_LIMITS } from './limits.js';
import { HEADER_BYTES, headerSane, knownClass, newProblem, newRecord, readQuestion, u16, walkMessage } from './parse.js';

const p = newProblem();
const r = newRecord();
const L = DNS_LIMITS;

/** Whether the first question of the message at `msg` is a NetBIOS name-service question. */
function netbios(buf: Uint8Array, msg: number, end: number): boolean {
  const at = msg + HEADER_BYTES;
  if (u16(buf, msg + 4) === 0 || at + 34 > end || buf[at] !== 32) return false;
  for (let i = at + 1; i < at + 33; i++) {
    const c = buf[i]!;
    if (c < 0x41 || c > 0x50) return false;
  }
  return true;
}

function wholeMessage(buf: Uint8Array, msg: number, end: number): boolean {
  const last = walkMessage(buf, msg, end, L.maxPointerJumps, L.maxQuestionsPerMessage, L.maxRecordsPerMessage, r, p);
  return last === end && !netbios(buf, msg, end);
}

export function probeDns(data: Uint8Array, off: number, len: number, _dir: Dir, _midstream: boolean): Probe {
  const end = off + len;
  if (len >= HEADER_BYTES && wholeMessage(data, off, end)) return Probe.Yes;
  // DNS over TCP.
  if (len < 2) return Probe.Need;
  const mlen = u16(data, off);
  if (mlen < HEADER_BYTES) return Probe.No;
  const msg = off + 2;
  if (len - 2 >= mlen) return wholeMessage(data, msg, msg + mlen) ? Probe.Yes : Probe.No;
  // Part of the message: its header and questions must be sane as far as they go.
  if (len - 2 < HEADER_BYTES) return Probe.Need;
  if (!headerSane(data, msg, msg + mlen)) return Probe.No;
  const qd = u16(data, msg + 4);
  if (qd > L.maxQuestionsPerMessage) return Probe.No;
  let at = msg + HEADER_BYTES;
  for (let i = 0; i < qd; i++) {
    at = readQuestion(data, msg, end, at, L.maxPointerJumps, false, r, p);
    if (at < 0) return p.code === 'dns_truncated' ? Probe.Need : Probe.No;
    if (r.type === 0 || !knownClass(r.cls)) return Probe.No;
  }
  if (netbios(data, msg, end)) return Probe.No;
  return qd > 0 ? Probe.Yes : Probe.Need;
}

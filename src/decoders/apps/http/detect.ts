/**
 * HTTP/1.x detection by payload, on any port. The client side must start with a complete request line
 * (`METHOD SP target SP HTTP/1.x CRLF`, a known method): the probe says Need until that line is complete, so that
 * protocols that also speak in HTTP request lines and are asked first (MSN's HTTP gateway, `POST /gateway/…`) decide
 * on the same bytes before this probe says Yes; SIP and RTSP request lines end in `SIP/2.0` / `RTSP/1.0` and are No.
 * The server side is Yes on a status line (`HTTP/1.x NNN`) once its head is complete (MSNP's gateway probe also
 * waits for the head of a response). On a connection picked up mid-stream the first bytes may be the tail of a
 * message: the start lines of the first PROBE_LINES lines are tried, within PROBE_MIDSTREAM_BYTES.
 */
import { Probe, type Dir } from '../../im/types.js';
import { headEnd, NEED, NO, requestLine, statusLine } from './head.js';
import { HTTP_LIMITS } from './limits.js';

/** Lines tried as a start line on a connection picked up mid-stream. */
export const PROBE_LINES = 8;
/** Bytes of a mid-stream direction looked at for a start line before the probe says No. */
export const PROBE_MIDSTREAM_BYTES = 4096;

/** A start line of direction `dir` at `at`, and for a response its complete head: offset after it, NO or NEED. */
function startAt(data: Uint8Array, at: number, end: number, dir: Dir): number {
  const max = HTTP_LIMITS.maxHeadBytes;
  if (dir === 0) return requestLine(data, at, end, max);
  const r = statusLine(data, at, end, max);
  if (r <= 0) return r;
  const h = headEnd(data, at, end, max);
  return h === -1 ? NEED : r;
}

/** The HTTP probe (ImProtocol.probe): pure, bounded. */
export function probeHttp(data: Uint8Array, off: number, len: number, dir: Dir, midstream: boolean): Probe {
  const end = off + len;
  if (!midstream) {
    const r = startAt(data, off, end, dir);
    return r === NO ? Probe.No : r === NEED ? Probe.Need : Probe.Yes;
  }
  let at = off;
  for (let n = 0; n < PROBE_LINES; n++) {
    const r = startAt(data, at, end, dir);
    if (r > 0) return Probe.Yes;
    if (r === NEED) return len > PROBE_MIDSTREAM_BYTES ? Probe.No : Probe.Need;
    const lf = data.indexOf(0x0a, at);
    if (lf < 0 || lf >= end - 1) return len > PROBE_MIDSTREAM_BYTES ? Probe.No : Probe.Need;
    at = lf + 1;
  }
  return Probe.No;
}

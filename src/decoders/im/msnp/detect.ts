/**
 * MSNP detection by payload, in either direction and on any port (1863 is usual; clients also used 80 and 443 when
 * 1863 was blocked).
 *
 * The first complete line decides: it must be an MSNP command line (three upper-case letters or a three-digit error
 * code, then a space or the line end; see parse.ts) whose command MSNP uses and whose parameters have the shape MSNP
 * gives them: `VER <trid> MSNPn…`, `USR <trid> TWN|MD5|SSO|OK|<email>`, `ANS <trid> <email>`, `MSG <trid> U|N|A|D <len>`
 * or `MSG <email> <name> <len>`, and for the other commands a transaction id or an account as first parameter. That
 * keeps out HTTP (`GET /`, `PUT /x HTTP/1.1`), SIP (`ACK sip:…`, `BYE sip:…`), SMTP and FTP replies (`220 text`), IRC
 * (`NICK`, `:server 001`), XMPP (`<`), TLS and binary. `VER MSNFTP` is the file-transfer subprotocol, which only the
 * `msnp-ftp` analyzer takes (as an expected connection): No here. Mid-stream the first line may be cut: a bad first
 * line is skipped and the next decides.
 *
 * HTTP-tunnelled MSNP (the HTTP gateway, http-gateway.ts): a line starting `POST ` is Yes only as a POST to
 * `/gateway/gateway.dll?` with `Action=open&Server=NS|SB` or a `SessionID`; a line starting `HTTP/` (a response) is
 * Need until its header block ends, then Yes only with `X-MSN-Messenger: SessionID=…` or
 * `Content-Type: application/x-msn-messenger`. Any other HTTP stays No.
 */
import { Probe, type Dir } from '../types.js';
import { probeGateway } from './http-gateway.js';
import { findLf, isNumber, lineShape, lineTextEnd, looksLikeEmail, payloadLength, tokens } from './parse.js';

/** Bytes the probe looks at for its line before saying No (the dispatcher holds at most 8 KiB). */
export const PROBE_MAX_LINE = 4096;

/** Commands of MSNP2-MSNP21 (notification and switchboard servers). */
export const MSNP_COMMANDS = new Set([
  'VER', 'CVR', 'CVQ', 'USR', 'XFR', 'CHG', 'ILN', 'NLN', 'FLN', 'ADC', 'ADD', 'ADL', 'RML', 'REM', 'LST', 'LSG', 'SYN',
  'GTC', 'BLP', 'PRP', 'BPR', 'CAL', 'JOI', 'IRO', 'ANS', 'BYE', 'MSG', 'UUX', 'UBX', 'GCF', 'NOT', 'QNG', 'PNG', 'CHL',
  'QRY', 'OUT', 'RNG', 'REA', 'SBS', 'UUM', 'UBM', 'SND', 'URL', 'INF', 'FQY', 'IPG', 'UUN', 'UBN', 'SDG', 'NFY', 'PUT',
  'DEL', 'ACK', 'NAK', 'ADG', 'RMG', 'REG', 'SBP', 'FND', 'LKP',
]);

/** Presence states (CHG, NLN, ILN). */
export const STATES = new Set(['NLN', 'BSY', 'IDL', 'BRB', 'AWY', 'PHN', 'LUN', 'HDN', 'FLN']);

const ACK_TYPES = new Set(['U', 'N', 'A', 'D']);

/** Whether a tokenised line is MSNP as the probe and the session's confirmation understand it. */
export function isMsnpLine(tok: readonly string[]): boolean {
  const cmd = tok[0];
  if (cmd === undefined) return false;
  const last = tok[tok.length - 1]!;
  if (/^(SIP|HTTP|RTSP)\/\d/.test(last)) return false;
  const p1 = tok[1];
  if (isNumber(cmd)) return tok.length >= 2 && isNumber(p1); // `911 5`, `241 7 120`
  if (!MSNP_COMMANDS.has(cmd)) return false;
  switch (cmd) {
    case 'VER':
      return isNumber(p1) && tok.slice(2).some((t) => /^MSNP\d+$/.test(t) || /^CVR\d$/.test(t));
    case 'USR':
      return isNumber(p1) && (tok[2] === 'TWN' || tok[2] === 'MD5' || tok[2] === 'SSO' || tok[2] === 'OK' || tok[2] === 'CTP' || looksLikeEmail(tok[2]));
    case 'ANS':
      return isNumber(p1) && (tok[2] === 'OK' || looksLikeEmail(tok[2]));
    case 'MSG':
      return payloadLength(tok) >= 0 && ((isNumber(p1) && ACK_TYPES.has(tok[2] ?? '')) || looksLikeEmail(p1) || p1 === 'Hotmail');
    case 'PNG':
    case 'OUT':
      return tok.length <= 2;
    case 'JOI':
    case 'BYE':
    case 'FLN':
    case 'UBX':
      return looksLikeEmail(p1);
    case 'NLN':
      return STATES.has(p1 ?? '') && looksLikeEmail(tok[2]);
    case 'LST':
      return (p1 !== undefined && p1.startsWith('N=')) || isNumber(p1) || looksLikeEmail(p1);
    case 'NOT':
    case 'IPG':
    case 'QNG':
    case 'RNG':
    case 'SBS':
    case 'CHL':
      return isNumber(p1);
    default:
      return isNumber(p1);
  }
}

/** The MSNP probe (ImProtocol.probe): pure, bounded to the first two lines. */
export function probeMsnp(data: Uint8Array, off: number, len: number, _dir: Dir, midstream: boolean): Probe {
  const end = off + len;
  let at = off;
  for (let n = 0; n < 2; n++) {
    const http = startsHttp(data, at, end);
    if (http === 'yes') return probeGateway(data, at, end, 2 * PROBE_MAX_LINE);
    if (http === 'short') return Probe.Need;
    const lf = findLf(data, at, Math.min(end, at + PROBE_MAX_LINE));
    if (lf < 0) {
      if (end - at >= PROBE_MAX_LINE) return Probe.No;
      // An unfinished first line can still be judged by its start.
      if (n === 0 && !midstream && end - at >= 4 && lineShape(data, at, Math.min(end, at + 4)) === 'bad') return Probe.No;
      return Probe.Need;
    }
    const e = lineTextEnd(data, at, lf);
    const shape = lineShape(data, at, e);
    if (shape === 'ok' && isMsnpLine(tokens(data, at, e))) return Probe.Yes;
    if (!midstream || n > 0) return Probe.No;
    at = lf + 1;
  }
  return Probe.No;
}

/** Whether `data[at, end)` starts with `POST ` or `HTTP/`: yes, no, or 'short' (a prefix of one of them). */
function startsHttp(data: Uint8Array, at: number, end: number): 'yes' | 'no' | 'short' {
  const w = data[at] === 0x50 ? 'POST ' : data[at] === 0x48 ? 'HTTP/' : null;
  if (w === null || end <= at) return 'no';
  for (let i = 1; i < 5; i++) {
    if (at + i >= end) return 'short';
    if (data[at + i] !== w.charCodeAt(i)) return 'no';
  }
  return 'yes';
}

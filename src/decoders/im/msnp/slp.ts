/**
 * MSNP2P (application/x-msnmsgrp2p) messages: the binary P2P header (v1: 48 bytes, MSNP ≤ 15; v2: a variable header,
 * MSNP16+), the MSNSLP messages they carry (a SIP-like text protocol, gathered from the chunks of session 0), and the
 * file-transfer INVITE among them: its `EUF-GUID` {5D3E02AB-6190-11D3-BBBB-00C04F795683}, `AppID` 2, and the base64
 * `Context` whose binary preamble holds the file size (64-bit little-endian at offset 8) and the file name (UTF-16LE,
 * 260 characters at offset 20). References: the nina.chat wiki (MSNC: P2Pv1 and P2Pv2 binary headers, MSNSLP, File
 * Transfer), the MSNSLP description by wangchao.net.cn, Wireshark has no dissector for it. The file's data chunks
 * (P2Pv1, session id of the INVITE, file-data flags, footer 2) relayed through the switchboard go to p2p-data.ts;
 * the 200 OK and 603 Decline answers to a file INVITE are `file_accept` / `file_cancel` events. P2Pv2 data chunks
 * (MSNP16+) and data on direct connections are not parsed: such an offer stays a transfer row with `bytes_seen` 0.
 */
import type { Dir, SessionContext, Time } from '../types.js';
import type { MsnpLimits } from './limits.js';
import { FILE_APP_ID, FILE_DATA_FLAGS, P2pFiles } from './p2p-data.js';
import { bareEmail, headerEnd, latin1, parseHeaders } from './parse.js';

export const FILE_TRANSFER_GUID = '{5D3E02AB-6190-11D3-BBBB-00C04F795683}';

interface Gathering {
  buf: Uint8Array;
  have: number;
  /** v1: the total announced in the header (the message is complete at that many bytes); v2: -1. */
  total: number;
}

const u32le = (d: Uint8Array, at: number): number => (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16)) + d[at + 3]! * 0x1000000;
const u32be = (d: Uint8Array, at: number): number => d[at]! * 0x1000000 + ((d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!);

export class SlpGatherer {
  /** Messages being gathered, by direction and P2P message id (v1) or direction (v2); insertion order = age. */
  private readonly pending = new Map<string, Gathering>();
  /** SLP session ids already reported (a re-INVITE is not a second offer). */
  private readonly seen = new Set<string>();
  private readonly files: P2pFiles;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: MsnpLimits,
  ) {
    this.files = new P2pFiles(ctx, limits);
  }

  /** The flow ended: file offers and transfers in progress are reported. */
  finish(ts: Time): void {
    this.files.finish(ts);
  }

  /** One application/x-msnmsgrp2p body `data[s, e)`; `dest` is its P2P-Dest header. */
  onChunk(dir: Dir, dest: string | null, data: Uint8Array, s: number, e: number, ts: Time): void {
    // MSNP16+ clients address P2Pv2 messages to an endpoint (`user@example.com;{guid}`); v1 has no endpoints.
    if (dest !== null && dest.includes(';{')) this.v2(dir, data, s, e, ts);
    else this.v1(dir, data, s, e, ts);
  }

  private v1(dir: Dir, data: Uint8Array, s: number, e: number, ts: Time): void {
    if (e - s < 48) {
      this.ctx.anomaly(ts, 'msnp_slp_malformed', `P2P message of ${e - s} bytes is shorter than its 48-byte header`);
      return;
    }
    const session = u32le(data, s);
    const id = u32le(data, s + 4);
    const offset = u32le(data, s + 8) + u32le(data, s + 12) * 2 ** 32;
    const total = u32le(data, s + 16) + u32le(data, s + 20) * 2 ** 32;
    const size = u32le(data, s + 24);
    if (size === 0) return; // an acknowledgement
    const ds = s + 48;
    const de = Math.min(e, ds + size);
    if (session !== 0) {
      // File data: the flags say so, and the footer (when the payload has one) is the file application id.
      const flags = u32le(data, s + 28);
      const app = de + 4 <= e ? u32be(data, de) : FILE_APP_ID;
      if (FILE_DATA_FLAGS.has(flags) && app === FILE_APP_ID && this.files.has(session)) this.files.data(session, offset, total, data, ds, de, ts);
      return;
    }
    const key = `${dir}:${id}`;
    let g = this.pending.get(key);
    if (offset === 0) {
      if (total > this.limits.maxSlpBytes) {
        this.ctx.anomaly(ts, 'msnp_slp_exceeded', `MSNSLP message of ${total} bytes exceeds ${this.limits.maxSlpBytes}`);
        return;
      }
      g = this.start(key, total, ts) ?? undefined;
    }
    if (g === undefined || offset !== g.have || offset + (de - ds) > g.buf.length) return;
    g.buf.set(data.subarray(ds, de), g.have);
    g.have += de - ds;
    if (g.have >= g.total) {
      this.pending.delete(key);
      this.slp(dir, g.buf, g.have, ts);
    }
  }

  private v2(dir: Dir, data: Uint8Array, s: number, e: number, ts: Time): void {
    const h = data[s]!;
    if (e - s < 8 || h < 8 || s + h >= e) {
      if (e - s >= 8 && s + h === e) return; // a bare acknowledgement: no data header
      this.ctx.anomaly(ts, 'msnp_slp_malformed', `P2Pv2 message of ${e - s} bytes too short for its ${h}-byte header`);
      return;
    }
    const msgSize = (data[s + 2]! << 8) | data[s + 3]!;
    if (msgSize === 0) return;
    const dh = s + h;
    const d = data[dh]!;
    if (dh + 8 > e || d < 8) {
      this.ctx.anomaly(ts, 'msnp_slp_malformed', `P2Pv2 data header of ${d} bytes does not fit`);
      return;
    }
    const session = ((data[dh + 4]! << 24) >>> 0) + (data[dh + 5]! << 16) + (data[dh + 6]! << 8) + data[dh + 7]!;
    if (session !== 0) return;
    const ds = dh + d;
    const de = Math.min(e, dh + msgSize);
    if (de <= ds) return;
    const key = `${dir}:v2`;
    let g = this.pending.get(key);
    if (startsSlp(data, ds, de)) g = this.start(key, -1, ts) ?? undefined;
    if (g === undefined) return;
    if (g.have + (de - ds) > g.buf.length) {
      this.pending.delete(key);
      this.ctx.anomaly(ts, 'msnp_slp_exceeded', `MSNSLP message of more than ${this.limits.maxSlpBytes} bytes`);
      return;
    }
    g.buf.set(data.subarray(ds, de), g.have);
    g.have += de - ds;
    if (slpComplete(g.buf, g.have)) {
      this.pending.delete(key);
      this.slp(dir, g.buf, g.have, ts);
    }
  }

  private start(key: string, total: number, ts: Time): Gathering | null {
    this.pending.delete(key);
    if (this.pending.size >= this.limits.maxPendingSlp) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
      this.ctx.anomaly(ts, 'msnp_slp_exceeded', `MSNSLP message ${this.limits.maxPendingSlp + 1} gathered at once exceeds ${this.limits.maxPendingSlp}: the oldest is dropped`);
    }
    const g: Gathering = { buf: new Uint8Array(total >= 0 ? total : this.limits.maxSlpBytes), have: 0, total };
    this.pending.set(key, g);
    return g;
  }

  /** A complete MSNSLP message `buf[0, n)`: file-transfer INVITEs and the answers to them are recorded. */
  private slp(dir: Dir, buf: Uint8Array, n: number, ts: Time): void {
    const he = headerEnd(buf, 0, n);
    if (he === null) return;
    const head = latin1(buf, 0, he.end);
    const first = head.slice(0, head.search(/\r?\n|$/));
    const hdr = parseHeaders(head);
    const body = parseHeaders(latin1(buf, he.body, n));
    const sid = body.get('sessionid') ?? hdr.get('call-id') ?? '';
    const sender = slpParty(hdr.get('from'));
    const recipient = slpParty(hdr.get('to'));
    const answer = /^MSNSLP\/\d\.\d (\d{3})/.exec(first);
    if (answer !== null) {
      // The receiver's answer to a file INVITE: accepted (200) or declined (603).
      const num = /^\d{1,10}$/.test(sid) ? Number(sid) : -1;
      if (!this.files.has(num)) return;
      const ok = answer[1] === '200';
      this.ctx.event(ts, { account: sender, event: ok ? 'file_accept' : 'file_cancel', target: recipient, detail: `${ok ? '' : `${first.slice(11)}, `}P2P session ${sid}`, dir });
      if (!ok) this.files.cancel(num, ts);
      return;
    }
    if (!/^INVITE MSNMSGR:\S+ MSNSLP\/\d/.test(first)) return;
    const guid = (body.get('euf-guid') ?? '').toUpperCase();
    if (guid !== FILE_TRANSFER_GUID) return;
    if (this.seen.has(sid)) return;
    if (this.seen.size >= this.limits.maxPendingInvites * 8) this.seen.clear();
    this.seen.add(sid);
    const file = fileContext(body.get('context') ?? '');
    if (file === null) {
      this.ctx.anomaly(ts, 'msnp_slp_malformed', `MSNSLP file INVITE (session ${sid}) without a readable Context`);
      return;
    }
    const detail = `${JSON.stringify(file.name)} (${file.size} bytes), P2P session ${sid}`;
    this.ctx.event(ts, { account: sender, event: 'file_offer', target: recipient, detail, dir });
    // The row comes when the data is complete, or at the end (as an offer with bytes_seen 0 when none crossed this flow).
    const meta = { sender, recipient, filename: file.name, size: file.size, method: 'msnp2p' };
    if (/^\d{1,10}$/.test(sid) && Number(sid) !== 0) this.files.offer(Number(sid), meta, file.size, ts);
    else this.ctx.transfer(ts, { ...meta, bytes_seen: 0, md5: null, sha256: null, complete: false, path: null });
  }
}

/** `<msnmsgr:alice@example.com>` (MSNP16+: with `;{endpoint}`) → `alice@example.com`. */
function slpParty(v: string | undefined): string | null {
  if (v === undefined) return null;
  const m = /<?\s*msnmsgr:([^>\s]+)/i.exec(v);
  return m ? bareEmail(m[1]!) : null;
}

function startsSlp(d: Uint8Array, s: number, e: number): boolean {
  const head = latin1(d, s, Math.min(e, s + 16));
  return /^(INVITE|BYE|ACK|MSNSLP\/)/.test(head);
}

/** Whether the gathered SLP text holds its headers and all Content-Length bytes of its body. */
function slpComplete(buf: Uint8Array, n: number): boolean {
  const he = headerEnd(buf, 0, n);
  if (he === null) return false;
  const len = Number(parseHeaders(latin1(buf, 0, he.end)).get('content-length') ?? '0');
  return !Number.isFinite(len) || n - he.body >= len;
}

/** The file name and size from a file-transfer INVITE's base64 Context; null when it is too short. */
export function fileContext(b64: string): { name: string; size: number } | null {
  const ctx = Buffer.from(b64.trim(), 'base64');
  if (ctx.length < 22) return null;
  const size = Number(ctx.readBigUInt64LE(8));
  const nameBytes = ctx.subarray(20, Math.min(ctx.length, 20 + 520));
  let end = 0;
  while (end + 1 < nameBytes.length && (nameBytes[end] !== 0 || nameBytes[end + 1] !== 0)) end += 2;
  return { name: nameBytes.subarray(0, end).toString('utf16le'), size };
}

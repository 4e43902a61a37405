/**
 * MSG payloads by MIME type (MSNP2-MSNP21): `text/plain` (a message; its `X-MMS-IM-Format` font and colour header is
 * not kept), `text/x-msmsgscontrol` (typing: an event), `text/x-msnmsgr-datacast` (nudges), `text/x-msmsgsinvite`
 * (invitations: MSNFTP file transfer with `Invitation-Command` INVITE / ACCEPT / CANCEL, the ACCEPT's `IP-Address`,
 * `Port`, `IP-Address-Internal`, `PortX` becoming expected `msnp-ftp` connections) and `application/x-msnmsgrp2p`
 * (MSNSLP: slp.ts). Other types (profile, e-mail notifications, emoticons, ink) are not recorded.
 * References: hypothetic.org (MSNP7-11: Messages, File Transfer invitations), yellows111's MSNP notes (MIME types,
 * MSNFTP), the nina.chat wiki (datacast IDs).
 */
import type { Dir, SessionContext, Time } from '../types.js';
import type { MsnpLimits } from './limits.js';
import { contentType, decodeText, headerEnd, latin1, parseHeaders } from './parse.js';
import { SlpGatherer } from './slp.js';

export const MSNFTP_ANALYZER = 'msnp-ftp';
/** Application-GUID of MSNFTP file transfer invitations. */
const FILE_APP_GUID = '{5D3E02AB-6190-11D3-BBBB-00C04F795683}';

/** What an MSNFTP connection's session gets as `ctx.expected`. */
export interface MsnFtpContext {
  filename: string | null;
  size: number | null;
  /** Who sends the file (the INVITE's sender) and who receives it. */
  sender: string | null;
  recipient: string | null;
  /** The invitation's cookie (not the connection's AuthCookie, which is never kept). */
  invitation: string;
}

interface Invite {
  filename: string | null;
  size: number | null;
  sender: string | null;
  recipient: string | null;
}

function ipv4(s: string | undefined): string | null {
  if (s === undefined) return null;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m || m.slice(1).some((x) => Number(x) > 255)) return null;
  return m.slice(1).map(Number).join('.');
}

function port(s: string | undefined): number | null {
  if (s === undefined || !/^\d{1,5}$/.test(s.trim())) return null;
  const n = Number(s.trim());
  return n >= 1 && n <= 65535 ? n : null;
}

export class MsgHandler {
  private readonly invites = new Map<string, Invite>();
  private readonly slp: SlpGatherer;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: MsnpLimits,
  ) {
    this.slp = new SlpGatherer(ctx, limits);
  }

  /** The flow ended: P2P file offers and transfers in progress are reported. */
  finish(ts: Time): void {
    this.slp.finish(ts);
  }

  /** The payload `data[s, e)` of an MSG from `sender` to `recipient` (a comma list on a multi-party switchboard). */
  onMsg(dir: Dir, sender: string | null, recipient: string | null, data: Uint8Array, s: number, e: number, ts: Time): void {
    const he = headerEnd(data, s, e);
    if (he === null) {
      this.ctx.anomaly(ts, 'msnp_payload_malformed', `MSG payload of ${e - s} bytes has no MIME header block`);
      return;
    }
    const h = parseHeaders(latin1(data, s, he.end));
    const ct = contentType(h.get('content-type'));
    switch (ct.type) {
      case 'text/plain': {
        const d = decodeText(data, he.body, e, ct.charset);
        this.ctx.message(ts, { sender, recipient, body: d.text, body_format: 'text', body_raw: d.raw, kind: 'chat', dir });
        return;
      }
      case 'text/x-msmsgscontrol': {
        const who = h.get('typinguser') ?? sender;
        if (who !== undefined) this.ctx.event(ts, { account: who, event: 'typing', target: recipient, detail: null, dir });
        return;
      }
      case 'text/x-msnmsgr-datacast': {
        const id = parseHeaders(latin1(data, he.body, e)).get('id');
        this.ctx.event(ts, { account: sender, event: id === '1' ? 'nudge' : 'datacast', target: recipient, detail: id === '1' ? null : `ID ${id ?? '?'}`, dir });
        return;
      }
      case 'text/x-msmsgsinvite':
        this.invite(dir, sender, recipient, parseHeaders(decodeText(data, he.body, e, ct.charset).text), ts);
        return;
      case 'application/x-msnmsgrp2p':
        this.slp.onChunk(dir, h.get('p2p-dest') ?? null, data, he.body, e, ts);
        return;
      default:
        return;
    }
  }

  private invite(dir: Dir, sender: string | null, recipient: string | null, b: Map<string, string>, ts: Time): void {
    const cmd = (b.get('invitation-command') ?? '').toUpperCase();
    const cookie = b.get('invitation-cookie') ?? '';
    switch (cmd) {
      case 'INVITE': {
        const file = b.get('application-file');
        const guid = (b.get('application-guid') ?? '').toUpperCase();
        if (file === undefined && guid !== FILE_APP_GUID) {
          this.ctx.event(ts, { account: sender, event: 'invite', target: recipient, detail: b.get('application-name') ?? guid, dir });
          return;
        }
        const sizeText = b.get('application-filesize');
        let size: number | null = null;
        if (sizeText !== undefined) {
          if (/^\d{1,15}$/.test(sizeText)) size = Number(sizeText);
          else this.ctx.anomaly(ts, 'msnp_invite_malformed', `Application-FileSize ${JSON.stringify(sizeText)} is not a number`);
        }
        this.remember(cookie, { filename: file ?? null, size, sender, recipient }, ts);
        this.ctx.event(ts, { account: sender, event: 'file_offer', target: recipient, detail: `${JSON.stringify(file ?? null)}${size !== null ? ` (${size} bytes)` : ''}, cookie ${cookie}`, dir });
        return;
      }
      case 'ACCEPT':
        this.accept(dir, sender, recipient, cookie, b, ts);
        return;
      case 'CANCEL':
        this.invites.delete(cookie);
        this.ctx.event(ts, { account: sender, event: 'file_cancel', target: recipient, detail: `${b.get('cancel-code') ?? 'CANCEL'}, cookie ${cookie}`, dir });
        return;
      default:
        return;
    }
  }

  private remember(cookie: string, inv: Invite, ts: Time): void {
    this.invites.delete(cookie);
    if (this.invites.size >= this.limits.maxPendingInvites) {
      const oldest = this.invites.keys().next().value as string;
      this.invites.delete(oldest);
      this.ctx.anomaly(ts, 'msnp_invites_exceeded', `invitation ${this.limits.maxPendingInvites + 1} waiting for an answer exceeds ${this.limits.maxPendingInvites}: cookie ${oldest} forgotten`);
    }
    this.invites.set(cookie, inv);
  }

  private accept(dir: Dir, sender: string | null, recipient: string | null, cookie: string, b: Map<string, string>, ts: Time): void {
    const inv = this.invites.get(cookie);
    const ipText = b.get('ip-address');
    const portText = b.get('port');
    const where = ipText !== undefined && portText !== undefined ? `${ipText}:${portText}` : null;
    this.ctx.event(ts, { account: sender, event: 'file_accept', target: recipient, detail: `cookie ${cookie}${where !== null ? `, ${where}` : ''}`, dir });
    if (ipText === undefined && portText === undefined) return; // the receiver's first ACCEPT: no address yet
    const host = ipv4(ipText);
    const p = port(portText);
    if (host === null || p === null) {
      this.ctx.anomaly(ts, 'msnp_invite_malformed', `ACCEPT with IP-Address ${JSON.stringify(ipText ?? null)} and Port ${JSON.stringify(portText ?? null)}`);
      return;
    }
    // Without the INVITE (capture started later), the ACCEPT with an address comes from the file's sender (the
    // listener) unless Sender-Connect says the receiver listens.
    const senderConnects = (b.get('sender-connect') ?? '').toUpperCase() === 'TRUE';
    const context: MsnFtpContext = {
      filename: inv?.filename ?? null,
      size: inv?.size ?? null,
      sender: inv?.sender ?? (senderConnects ? recipient : sender),
      recipient: inv?.recipient ?? (senderConnects ? sender : recipient),
      invitation: cookie,
    };
    const ttl = this.limits.inviteTtlSeconds;
    const targets = new Map<string, [string, number]>();
    targets.set(`${host}:${p}`, [host, p]);
    const internal = ipv4(b.get('ip-address-internal'));
    const portX = port(b.get('portx')) ?? p;
    if (internal !== null) targets.set(`${internal}:${portX}`, [internal, portX]);
    // The announcer is this flow's client and announced its public address: a tap inside the NAT sees the private one.
    if (dir === 0 && host !== this.ctx.clientIp) targets.set(`${this.ctx.clientIp}:${p}`, [this.ctx.clientIp, p]);
    for (const [h, pt] of targets.values()) this.ctx.expect(ts, { transport: 'tcp', host: h, port: pt, ttl, analyzer: MSNFTP_ANALYZER, context });
    this.invites.delete(cookie);
  }
}

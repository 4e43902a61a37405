/**
 * What an MSRP connection announced in SIP/SDP gets as `ctx.expected` (see sip/session.ts): who sits at each MSRP
 * path of the session, and the file offered (RFC 5547 file-selector) when it is a file transfer. The SIP session adds
 * the answerer's path when the 2xx answer arrives, before the MSRP connection is opened (RFC 4975 §5.4: the offerer
 * connects once it has the answer), so the object is shared, not copied.
 */
import type { FileSelector } from '../sip/sdp.js';

export interface MsrpParty {
  /** The session-id part of the party's MSRP URI (RFC 4975 §6). */
  sessionId: string;
  /** The SIP address of that party (the INVITE's From for the offerer, To for the answerer). */
  who: string | null;
}

export interface MsrpContext {
  parties: MsrpParty[];
  /** The file offered in the SDP (RFC 5547), or null. */
  file: FileSelector | null;
  /** The Call-ID of the INVITE dialog that set the session up. */
  callId: string | null;
}

/** The expected context, checked: what arrives as `ctx.expected` is `unknown`. */
export function asMsrpContext(x: unknown): MsrpContext | null {
  if (typeof x !== 'object' || x === null) return null;
  const c = x as Partial<MsrpContext>;
  if (!Array.isArray(c.parties)) return null;
  return c as MsrpContext;
}

/** The party at an MSRP URI of a To-Path/From-Path, by session id; null when unknown. */
export function partyOf(c: MsrpContext | null, sessionId: string | null): string | null {
  if (c === null || sessionId === null) return null;
  for (const p of c.parties) if (p.sessionId === sessionId) return p.who;
  return null;
}

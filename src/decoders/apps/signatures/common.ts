/**
 * What the app signatures share: a datagram (or first-bytes) matcher per app, and a session that confirms on the
 * signature's evidence, names the app and its kind, and stops after a bounded number of datagrams. A signature that
 * needs the other side's answer rejects the flow when the answer never comes (at `finish`), so that a probe's guess
 * never becomes a verdict on its own.
 */
import type { AppKind, Dir, ImSession, SessionContext, Time } from '../../im/types.js';

/** What a signature says about one datagram (UDP) or about the bytes so far (TCP). */
export const enum Verdict {
  /** Nothing yet: keep looking. */
  More = 0,
  /** The signature holds: confirm. */
  Match = 1,
  /** Contradicted: not this app. */
  No = 2,
}

export interface SignatureSpec {
  app: string;
  kind: AppKind;
  confidence: number;
  /** Datagrams (or TCP deliveries) looked at before giving up. */
  budget: number;
  /** A new per-flow matcher: called with each datagram (UDP) or the bytes so far (TCP). */
  matcher: () => (dir: Dir, data: Uint8Array, off: number, len: number) => Verdict;
  /** After a match: the rest of the flow is encrypted (calls ctx.encrypted with this), else done(). */
  encryptedAs?: string;
}

export function signatureSession(ctx: SessionContext, spec: SignatureSpec): ImSession {
  const match = spec.matcher();
  const tcp = ctx.transport === 'tcp';
  let seen = 0;
  let over = false;
  let matched = false;
  return {
    onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
      if (over) return len;
      seen++;
      const v = match(dir, data, off, len);
      if (v === Verdict.Match) {
        matched = true;
        over = true;
        ctx.setKind(spec.kind);
        ctx.identify(spec.app, spec.kind, 'payload', spec.confidence);
        ctx.confirm(spec.confidence);
        if (spec.encryptedAs !== undefined) ctx.encrypted(spec.encryptedAs, ts);
        else ctx.done();
        return len;
      }
      if (v === Verdict.No || seen >= spec.budget) {
        over = true;
        ctx.reject(v === Verdict.No ? `${spec.app} signature contradicted` : `${spec.app} signature not completed in ${spec.budget} ${tcp ? 'deliveries' : 'datagrams'}`);
        return len;
      }
      // TCP: keep the bytes so that the matcher sees them again with the next ones (bounded by the budget).
      return tcp ? 0 : len;
    },
    onGap(): void {
      if (!over && !matched) {
        over = true;
        ctx.reject('gap before the signature completed');
      }
    },
    onEnd(): void {},
    finish(): void {
      if (!matched && !over) ctx.reject(`${spec.app} signature not completed`);
    },
  };
}

export const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
export const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Whether `data[off, off + bytes.length)` equals `bytes` (bounds checked against `len`). */
export function startsWith(data: Uint8Array, off: number, len: number, bytes: readonly number[], at = 0): boolean {
  if (at + bytes.length > len) return false;
  for (let i = 0; i < bytes.length; i++) if (data[off + at + i] !== bytes[i]) return false;
  return true;
}

/** No limits beyond the budget; every signature declares its budget here. */
export const NO_ANOMALIES: Readonly<Record<string, string>> = {};

/**
 * SASL as XMPP carries it (RFC 6120 §6.4: `<auth mechanism>` base64 `</auth>`, `<response>`, `<success>`,
 * `<failure>`): which mechanism, and the authentication identity when the mechanism shows it in clear —
 * PLAIN and X-OAUTH2 (RFC 4616: authzid NUL authcid NUL secret), SCRAM-* client-first message (RFC 5802 §5.1:
 * gs2 header then `n=user`), DIGEST-MD5 response (RFC 2831 §2.1.2: `username="…"`).
 *
 * Secrets (passwords, tokens, proofs) are never returned or kept: the decoded bytes are zeroed once the identity is
 * read.
 */
import { decodeBase64 } from './jid.js';

/** The `auth` column for a SASL mechanism name. */
export function saslAuthLabel(mechanism: string): string {
  const m = mechanism.toUpperCase();
  if (m === 'PLAIN') return 'sasl_plain';
  if (m.startsWith('SCRAM-')) return 'sasl_scram';
  if (m === 'EXTERNAL') return 'sasl_external';
  if (m === 'ANONYMOUS') return 'sasl_anonymous';
  return `sasl_${m.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
}

export interface SaslIdentity {
  /** Authentication identity (user name or JID). */
  authcid: string | null;
  /** Authorization identity: the JID to act as, when given. */
  authzid: string | null;
}

/**
 * The identity in an initial response or a response of `mechanism`; null when the payload is not base64 or not in
 * the mechanism's form, `{authcid: null}` when the mechanism carries none.
 */
export function saslIdentity(mechanism: string, payload: string): SaslIdentity | null {
  const text = payload.trim();
  if (text === '' || text === '=') return { authcid: null, authzid: null };
  const bytes = decodeBase64(text);
  if (bytes === null) return null;
  try {
    const m = mechanism.toUpperCase();
    if (m === 'PLAIN' || m === 'X-OAUTH2') {
      const a = bytes.indexOf(0);
      const b = a < 0 ? -1 : bytes.indexOf(0, a + 1);
      if (a < 0 || b < 0) return null;
      const authzid = bytes.toString('utf8', 0, a);
      return { authcid: bytes.toString('utf8', a + 1, b), authzid: authzid === '' ? null : authzid };
    }
    if (m.startsWith('SCRAM-')) {
      // gs2-header "n,," / "y,," / "p=…,," optionally with "a=authzid", then "n=user,r=nonce".
      const s = bytes.toString('utf8');
      const parts = s.split(',');
      if (parts.length < 4) return null;
      const user = parts.slice(2).find((p) => p.startsWith('n='));
      const az = parts[1]?.startsWith('a=') ? unescapeScram(parts[1].slice(2)) : null;
      return user === undefined ? null : { authcid: unescapeScram(user.slice(2)), authzid: az };
    }
    if (m === 'DIGEST-MD5') {
      const s = bytes.toString('utf8');
      const u = /(?:^|,)\s*username\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(s);
      const az = /(?:^|,)\s*authzid\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(s);
      return u === null ? null : { authcid: u[1]!.replace(/\\(.)/g, '$1'), authzid: az === null ? null : az[1]!.replace(/\\(.)/g, '$1') };
    }
    if (m === 'EXTERNAL') {
      const s = bytes.toString('utf8');
      return { authcid: null, authzid: s === '' ? null : s };
    }
    return { authcid: null, authzid: null };
  } finally {
    bytes.fill(0);
  }
}

/** RFC 5802 §5.1: "=2C" is ",", "=3D" is "=". */
function unescapeScram(s: string): string {
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/**
 * Addresses in SIP and CPIM headers: `name-addr` (`"Display" <sip:user@host;uri-params>;header-params`) and bare
 * `addr-spec` (`sip:user@host;header-params`, where the parameters belong to the header), RFC 3261 §20.10 and §25.1;
 * CPIM's `From: Name <im:user@host>` (RFC 3862 §3.3.1) has the same shape. The address recorded is the URI without
 * parameters, headers or password, scheme and host in lower case (`sip:alice@atlanta.example.com`,
 * `tel:+12015550123`): the address-of-record as RFC 3261 §10.3 compares them.
 */

export interface NameAddr {
  /** The URI as recorded (see the file comment). */
  uri: string;
  display: string | null;
  /** Header parameters after the address (`tag`, `expires`), lower-case names. */
  params: Map<string, string>;
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  return t;
}

function parseParams(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of s.split(';')) {
    const t = p.trim();
    if (t.length === 0) continue;
    const eq = t.indexOf('=');
    if (eq < 0) out.set(t.toLowerCase(), '');
    else out.set(t.slice(0, eq).trim().toLowerCase(), unquote(t.slice(eq + 1)));
  }
  return out;
}

/** The URI without parameters, headers or password; scheme and host in lower case. */
export function canonicalUri(raw: string): string {
  const u = raw.trim();
  const colon = u.indexOf(':');
  if (colon <= 0) return u;
  const scheme = u.slice(0, colon).toLowerCase();
  let rest = u.slice(colon + 1);
  if (rest.startsWith('//')) return `${scheme}:${rest.split(/[;?]/, 1)[0]!.toLowerCase()}`; // msrp://host:port/id
  const at = rest.lastIndexOf('@');
  let user = '';
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    // user:password@host: the password is never kept.
    const pc = user.indexOf(':');
    if (pc >= 0) user = user.slice(0, pc);
  }
  const host = rest.split(/[;?]/, 1)[0]!.toLowerCase();
  return at >= 0 ? `${scheme}:${user}@${host}` : `${scheme}:${host}`;
}

/** The host (and port) part of a URI, lower case; null when there is none. */
export function uriHost(raw: string): string | null {
  const c = canonicalUri(raw);
  const colon = c.indexOf(':');
  if (colon < 0) return null;
  const rest = c.slice(colon + 1);
  const at = rest.lastIndexOf('@');
  const h = at >= 0 ? rest.slice(at + 1) : rest;
  return h.length > 0 ? h : null;
}

/** Parse a From/To/Contact-like header value; null when it holds no URI. */
export function nameAddr(value: string): NameAddr | null {
  const v = value.trim();
  const lt = v.indexOf('<');
  if (lt >= 0) {
    const gt = v.indexOf('>', lt + 1);
    if (gt < 0) return null;
    const inner = v.slice(lt + 1, gt).trim();
    if (inner.length === 0) return null;
    const d = unquote(v.slice(0, lt));
    return { uri: canonicalUri(inner), display: d.length > 0 ? d : null, params: parseParams(v.slice(gt + 1)) };
  }
  if (v.length === 0 || v === '*') return null;
  const semi = v.indexOf(';');
  const spec = semi < 0 ? v : v.slice(0, semi);
  if (!spec.includes(':')) return null;
  return { uri: canonicalUri(spec), display: null, params: parseParams(semi < 0 ? '' : v.slice(semi + 1)) };
}

/** `Name value, name="quoted value"` parameters of an auth header (RFC 2617 / RFC 3261 §25.1 `digest-response`). */
export function authParams(value: string): { scheme: string; params: Map<string, string> } {
  const v = value.trim();
  const sp = v.search(/\s/);
  const scheme = (sp < 0 ? v : v.slice(0, sp)).toLowerCase();
  const params = new Map<string, string>();
  const re = /([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)/g;
  const tail = sp < 0 ? '' : v.slice(sp);
  for (let m = re.exec(tail); m !== null; m = re.exec(tail)) {
    params.set(m[1]!.toLowerCase(), unquote(m[2]!));
    if (params.size > 32) break;
  }
  return { scheme, params };
}

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
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    const inner = t.slice(1, -1);
    return inner.includes('\\') ? inner.replace(/\\(.)/g, '$1') : inner;
  }
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

/** Index of the first `;` or `?` in `s` from `from`, else its length. */
function paramsAt(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3b || c === 0x3f) return i;
  }
  return s.length;
}

/** The URI without parameters, headers or password; scheme and host in lower case. */
export function canonicalUri(raw: string): string {
  const u = raw.trim();
  const colon = u.indexOf(':');
  if (colon <= 0) return u;
  const scheme = u.slice(0, colon).toLowerCase();
  const rest = colon + 1;
  if (u.startsWith('//', rest)) return `${scheme}:${u.slice(rest, paramsAt(u, rest)).toLowerCase()}`; // msrp://host:port/id
  const at = u.lastIndexOf('@');
  if (at < rest) return `${scheme}:${u.slice(rest, paramsAt(u, rest)).toLowerCase()}`;
  // user:password@host: the password is never kept.
  const pc = u.indexOf(':', rest);
  const user = u.slice(rest, pc >= 0 && pc < at ? pc : at);
  return `${scheme}:${user}@${u.slice(at + 1, paramsAt(u, at + 1)).toLowerCase()}`;
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

/**
 * Where the parts of a name-addr or addr-spec are: the trimmed value, its URI text (not yet canonical), the `<` before
 * it (-1 for a bare addr-spec) and where the header parameters start. Null when the value holds no URI.
 */
function locate(value: string): { v: string; uri: string; lt: number; params: number } | null {
  const v = value.trim();
  const lt = v.indexOf('<');
  if (lt >= 0) {
    const gt = v.indexOf('>', lt + 1);
    if (gt < 0) return null;
    const uri = v.slice(lt + 1, gt).trim();
    return uri.length === 0 ? null : { v, uri, lt, params: gt + 1 };
  }
  if (v.length === 0 || v === '*') return null;
  const semi = v.indexOf(';');
  const uri = semi < 0 ? v : v.slice(0, semi);
  return uri.includes(':') ? { v, uri, lt, params: semi < 0 ? v.length : semi + 1 } : null;
}

/** `nameAddr(value)?.uri ?? null` without the display name and parameters nobody reads (From and To). */
export function addrUri(value: string): string | null {
  const at = locate(value);
  return at === null ? null : canonicalUri(at.uri);
}

/** `nameAddr(value)?.display ?? null`: the display name before `<`, unquoted, without parsing the parameters. */
export function addrDisplay(value: string): string | null {
  const at = locate(value);
  if (at === null || at.lt < 0) return null;
  const d = unquote(at.v.slice(0, at.lt));
  return d.length > 0 ? d : null;
}

/** Parse a From/To/Contact-like header value; null when it holds no URI. */
export function nameAddr(value: string): NameAddr | null {
  const at = locate(value);
  if (at === null) return null;
  const d = at.lt < 0 ? '' : unquote(at.v.slice(0, at.lt));
  return { uri: canonicalUri(at.uri), display: d.length > 0 ? d : null, params: parseParams(at.v.slice(at.params)) };
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

/**
 * Web messaging over plain HTTP: the requests a web site's own chat sends, as data. Each rule names a host suffix, a
 * path prefix, the app, and the form fields (application/x-www-form-urlencoded, RFC 1866 §8.2.1 / WHATWG URL
 * "application/x-www-form-urlencoded") that hold the sender, the recipient and the text. A `login` rule names only
 * the field holding the account: the analyzer reads the fields a rule names and nothing else, so a password field is
 * never decoded, let alone stored.
 */
import type { AppKind } from '../../im/types.js';

export interface WebRule {
  /** The host (Host header or absolute URI authority, port removed, lower case) equals this or ends with `.` + this. */
  hostSuffix: string;
  /** The request path (before `?`) starts with this. */
  pathPrefix: string;
  app: string;
  kind: AppKind;
  /** `message`: a chat message sent by the client; `login`: the client signs in (the account only). */
  action: 'message' | 'login';
  confidence: number;
  /** Field names (as decoded from the form) for the message's parts or the login's account. */
  sender?: string;
  recipient?: string;
  text?: string;
  subject?: string;
  account?: string;
  /** Where the rule comes from. */
  source: string;
}

export const WEB_RULES: readonly WebRule[] = [
  {
    // facebook.com's chat box of 2010-2011 (the "gigaboxx" message composer): seen in chrissanders/packets
    // ppa2e/ppa2e_facebook_message.pcap (April 2010): ids[0] the recipient's id, profile_id the sender's own id
    // (equal to the c_user cookie), status the text, subject the subject line.
    hostSuffix: 'facebook.com',
    pathPrefix: '/ajax/gigaboxx/endpoint/MessageComposerEndpoint.php',
    app: 'messenger',
    kind: 'web',
    action: 'message',
    confidence: 0.85,
    sender: 'profile_id',
    recipient: 'ids[0]',
    text: 'status',
    subject: 'subject',
    source: 'ppa2e_facebook_message.pcap (2010)',
  },
  {
    // facebook.com's later web chat ("mercury", 2012-2014): one message per batch entry. Field names from public
    // client code of the time; no capture of it in plain HTTP is at hand.
    hostSuffix: 'facebook.com',
    pathPrefix: '/ajax/mercury/send_messages.php',
    app: 'messenger',
    kind: 'web',
    action: 'message',
    confidence: 0.85,
    sender: 'message_batch[0][author]',
    recipient: 'message_batch[0][specific_to_list][0]',
    text: 'message_batch[0][body]',
    source: 'public mercury client code (2013), unverified by capture',
  },
  {
    // facebook.com's login form: the e-mail or phone in `email` (the password, `pass`, is never read). A login
    // signs in to the site's chat too, but is weaker evidence of messaging than a message: 0.7.
    hostSuffix: 'facebook.com',
    pathPrefix: '/login.php',
    app: 'messenger',
    kind: 'web',
    action: 'login',
    confidence: 0.7,
    account: 'email',
    source: 'facebook.com login form (2010-2011)',
  },
];

/** The host part of a Host value or URI authority: port and IPv6 brackets removed, lower case, no trailing dot. */
export function hostOnly(host: string): string {
  let h = host.trim();
  const at = h.lastIndexOf('@');
  if (at >= 0) h = h.slice(at + 1);
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    h = close > 0 ? h.slice(1, close) : h.slice(1);
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}

/** Whether `h` is an address literal rather than a name (IPv4 dotted, or IPv6 with colons). */
export function isAddress(h: string): boolean {
  return h.includes(':') || /^[0-9.]+$/.test(h);
}

/** The authority of an absolute URI (`http://host:port/path`), or null for an origin-form target. */
export function uriAuthority(uri: string): string | null {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  return m ? m[1]! : null;
}

/** The path of a request target (origin or absolute form), without the query. */
export function uriPath(uri: string): string {
  let p = uri;
  const auth = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(p);
  if (auth) p = p.slice(auth[0].length);
  const q = p.search(/[?#]/);
  return q >= 0 ? p.slice(0, q) : p;
}

/** The rule for a request to `host` (as `hostOnly` gives it) at `uri`, or null. */
export function matchWebRule(host: string | null, uri: string, rules: readonly WebRule[] = WEB_RULES): WebRule | null {
  if (host === null) return null;
  let path: string | null = null;
  for (const r of rules) {
    if (host !== r.hostSuffix && !host.endsWith(`.${r.hostSuffix}`)) continue;
    path ??= uriPath(uri);
    if (path.startsWith(r.pathPrefix)) return r;
  }
  return null;
}

/** The field names a rule reads. */
export function ruleFields(r: WebRule): string[] {
  return [r.sender, r.recipient, r.text, r.subject, r.account].filter((x): x is string => x !== undefined);
}

const hexVal = (b: number) => (b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x41 && b <= 0x46 ? b - 0x37 : b >= 0x61 && b <= 0x66 ? b - 0x57 : -1);

/** Percent-decode `data[s, e)` with `+` as space into a new array (a malformed `%` escape stays as it is). */
export function formDecode(data: Uint8Array, s: number, e: number): Uint8Array {
  const out = new Uint8Array(e - s);
  let n = 0;
  for (let i = s; i < e; i++) {
    const b = data[i]!;
    if (b === 0x2b) out[n++] = 0x20;
    else if (b === 0x25 && i + 2 < e && hexVal(data[i + 1]!) >= 0 && hexVal(data[i + 2]!) >= 0) {
      out[n++] = hexVal(data[i + 1]!) * 16 + hexVal(data[i + 2]!);
      i += 2;
    } else out[n++] = b;
  }
  return out.subarray(0, n);
}

/** Longest field name compared; longer names cannot be one a rule reads. */
const MAX_KEY = 256;

/**
 * The values of the `wanted` fields of a form body `data[s, e)` (first occurrence of each), percent-decoded bytes.
 * Other fields' values are not decoded.
 */
export function readForm(data: Uint8Array, s: number, e: number, wanted: readonly string[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let i = s;
  while (i < e && out.size < wanted.length) {
    let amp = data.indexOf(0x26, i);
    if (amp < 0 || amp > e) amp = e;
    let eq = data.indexOf(0x3d, i);
    if (eq < 0 || eq > amp) eq = amp;
    if (eq - i <= MAX_KEY * 3 && eq > i) {
      const key = Buffer.from(formDecode(data, i, eq)).toString('latin1');
      if (key.length <= MAX_KEY && wanted.includes(key) && !out.has(key)) out.set(key, formDecode(data, Math.min(eq + 1, amp), amp));
    }
    i = amp + 1;
  }
  return out;
}

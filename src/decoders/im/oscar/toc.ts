/**
 * TOC: AOL's text protocol for AIM, framed in FLAP (the client opens with `FLAPON\r\n\r\n`).
 *
 * References: AOL's TOC(1) protocol document (PROTOCOL, TOC1.0, 1998-1999, as shipped with TiK and TAC), the TOC2
 * notes of the Gaim/TiK developers, Wireshark `aim` (it shows TOC frames as FLAP data). Client commands are
 * NUL-terminated lines of words, arguments with spaces in double quotes with `\` escapes:
 * `toc_signon <host> <port> <user> <roasted password> <language> <version>` (toc2_signon: more words after),
 * `toc_send_im <user> <message> [auto]` (toc2_send_im), `toc_add_buddy <user>…`, `toc_set_away [<message>]`.
 * Server messages are `NAME:field:…`: `SIGN_ON:<version>`, `IM_IN:<user>:<auto T/F>:<message>`,
 * `IM_IN2:<user>:<auto>:<?>:<message>`, `IM_IN_ENC2:<user>:<auto>:<?>:<?>:<?>:<?>:<encoding>:<lang>:<message>`,
 * `UPDATE_BUDDY:<user>:<online T/F>:<evil>:<signon>:<idle>:<class>` (UPDATE_BUDDY2 the same and more; class' third
 * character U = away), `CONFIG:`/`CONFIG2:` (buddy list: `g group`, `b buddy`, `p`/`d` permit/deny; CONFIG2 with
 * `:`), `CLIENT_EVENT2:<user>:<0 none, 1 typed, 2 typing>`, `NICK:<name>`, `ERROR:<code>[:args]`.
 * Messages are AIM HTML in ISO-8859-1 or UTF-8 (text.ts).
 */
import type { Time } from '../types.js';
import type { OscarState } from './state.js';
import { CHARSET_ASCII, messageBody } from './text.js';
import { nameText } from './wire.js';

const TYPING = ['finished', 'typed', 'begun'];

/** Words of a TOC client command: spaces separate, "…" quotes, `\` escapes the next character. */
export function tocWords(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    let w = '';
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        w += line[i++];
      }
      i++;
    } else {
      while (i < line.length && line[i] !== ' ') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        w += line[i++];
      }
    }
    out.push(w);
  }
  return out;
}

function body(text: string): ReturnType<typeof messageBody> {
  const bytes = new TextEncoder().encode(text);
  return messageBody(bytes, 0, bytes.length, CHARSET_ASCII);
}

/** Split `s` at the first `n` colons: n + 1 fields, the last one the rest (a message may hold colons). */
function fields(s: string, n: number): string[] | null {
  const out: string[] = [];
  let at = 0;
  for (let k = 0; k < n; k++) {
    const c = s.indexOf(':', at);
    if (c < 0) return null;
    out.push(s.slice(at, c));
    at = c + 1;
  }
  out.push(s.slice(at));
  return out;
}

export function onTocClient(st: OscarState, b: Uint8Array, s: number, e: number, ts: Time): void {
  let te = e;
  while (te > s && b[te - 1] === 0) te--;
  const w = tocWords(nameText(b, s, te));
  const cmd = (w[0] ?? '').toLowerCase();
  const bad = (need: number): boolean => {
    if (w.length >= need) return false;
    st.anomaly(ts, 'oscar_toc_malformed', `${cmd} with ${w.length - 1} arguments, needs ${need - 1}`);
    return true;
  };
  switch (cmd) {
    case 'toc_signon':
    case 'toc2_signon':
      if (bad(4)) return;
      // w[4] is the roasted password: never kept.
      st.auth = 'roasted_password';
      st.setOwn(w[3]!, ts);
      return;
    case 'toc_send_im':
    case 'toc2_send_im':
      if (bad(3)) return;
      st.ctx.message(ts, { sender: st.own, recipient: st.peer(w[1]!), ...body(w[2]!), kind: w[3] === 'auto' ? 'auto' : 'im', dir: 0 });
      return;
    case 'toc_add_buddy':
      for (const n of w.slice(1)) st.contact(ts, st.peer(n), null, null);
      return;
    case 'toc_set_away':
      st.event(ts, 0, st.own, 'presence', null, w.length > 1 && w[1] !== '' ? 'away' : 'online');
      return;
    default:
  }
}

export function onTocServer(st: OscarState, b: Uint8Array, s: number, e: number, ts: Time): void {
  let te = e;
  while (te > s && b[te - 1] === 0) te--;
  const line = nameText(b, s, te);
  const c = line.indexOf(':');
  const name = c < 0 ? line : line.slice(0, c);
  const rest = c < 0 ? '' : line.slice(c + 1);
  const bad = (): void => st.anomaly(ts, 'oscar_toc_malformed', `${name} of ${rest.length} characters lacks fields`);
  switch (name) {
    case 'SIGN_ON':
      st.login(ts);
      return;
    case 'ERROR':
      if (!st.loggedIn) st.event(ts, 1, st.own, 'login_failed', null, `error ${rest}`);
      return;
    case 'NICK':
      if (rest !== '') st.ctx.account(ts, { account: st.own ?? rest, display_name: rest, auth: st.auth, side: 0 });
      return;
    case 'IM_IN':
    case 'IM_IN2':
    case 'IM_IN_ENC2': {
      const f = fields(rest, name === 'IM_IN' ? 2 : name === 'IM_IN2' ? 3 : 8);
      if (f === null) return bad();
      st.ctx.message(ts, { sender: st.peer(f[0]!), recipient: st.own, ...body(f[f.length - 1]!), kind: f[1] === 'T' ? 'auto' : 'im', dir: 1 });
      return;
    }
    case 'UPDATE_BUDDY':
    case 'UPDATE_BUDDY2': {
      const f = rest.split(':');
      if (f.length < 6) return bad();
      const away = (f[5] ?? '')[2] === 'U';
      st.event(ts, 1, st.peer(f[0]!), 'presence', st.own, f[1] === 'T' ? (away ? 'away' : 'online') : 'offline');
      return;
    }
    case 'CONFIG':
    case 'CONFIG2': {
      let group: string | null = null;
      for (const l of rest.split('\n')) {
        const kind = l[1] === (name === 'CONFIG2' ? ':' : ' ') ? l[0] : undefined;
        const v = (name === 'CONFIG2' ? l.slice(2).split(':')[0]! : l.slice(2)).trim();
        if (kind === 'g') group = v;
        else if (kind === 'b' && v !== '') st.contact(ts, st.peer(v), group, null);
        else if ((kind === 'p' || kind === 'd') && v !== '') st.contact(ts, st.peer(v), null, kind === 'p' ? 'permit' : 'deny');
      }
      return;
    }
    case 'CLIENT_EVENT2': {
      const f = rest.split(':');
      if (f.length < 2) return bad();
      st.event(ts, 1, st.peer(f[0]!), 'typing', st.own, TYPING[Number(f[1])] ?? `type ${f[1]}`);
      return;
    }
    default:
  }
}

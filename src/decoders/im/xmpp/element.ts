/**
 * Stanza elements as the reader hands them over (name, resolved namespace, attributes, text, children), and the
 * decoding of XML references in text and attribute values: the five predefined entities and character references
 * only (XML 1.0 Fifth Edition §4.1, §4.6; RFC 6120 §11.1 forbids every other entity, so none is ever expanded).
 */

/** An element of a stanza. Attribute values and text are decoded (entities, UTF-8). */
export class XEl {
  readonly children: XEl[] = [];
  /** The element's character data before its first child (all of it when it has no children). */
  text = '';
  /** Character data after this element's end tag, up to its next sibling (mixed content such as XHTML-IM). */
  tail = '';
  /** The text's bytes when they were not valid UTF-8 (then `text` has U+FFFD). */
  raw: Uint8Array | null = null;
  /** Its content was not kept (see the reader's `skipSubtree`). */
  skipped = false;
  constructor(
    readonly name: string,
    readonly local: string,
    readonly ns: string,
    /** Flat name/value pairs, as written (prefixed names kept). */
    readonly attrs: readonly string[],
  ) {}

  attr(name: string): string | null {
    const a = this.attrs;
    for (let i = 0; i < a.length; i += 2) if (a[i] === name) return a[i + 1]!;
    return null;
  }

  /** The first child with this local name (and namespace, when given). */
  child(local: string, ns?: string): XEl | null {
    for (const c of this.children) if (c.local === local && (ns === undefined || c.ns === ns)) return c;
    return null;
  }

  /** The first child in namespace `ns` (any name), or whose namespace starts with `ns` when `prefix`. */
  childNs(ns: string, prefix = false): XEl | null {
    for (const c of this.children) if (prefix ? c.ns.startsWith(ns) : c.ns === ns) return c;
    return null;
  }

  childText(local: string, ns?: string): string | null {
    const c = this.child(local, ns);
    return c === null ? null : c.text;
  }
}

/** Decode the predefined entities and character references; anything else stays as written (never expanded). */
export function decodeEntities(s: string, problem: (code: string, detail: string) => void): string {
  let out = '';
  let p = 0;
  for (let a = s.indexOf('&'); a >= 0; a = s.indexOf('&', p)) {
    out += s.slice(p, a);
    const semi = s.indexOf(';', a + 1);
    const ref = semi > a && semi - a <= 40 ? s.slice(a + 1, semi) : null;
    const rep = ref === null ? null : entity(ref, problem);
    if (rep === null) {
      problem('xmpp_unknown_entity', `"${(ref === null ? s.slice(a, a + 12) : `&${ref};`).replace(/[\u0000-\u001f]/g, '?')}" is not a predefined entity or a character reference`);
      out += '&';
      p = a + 1;
    } else {
      out += rep;
      p = semi + 1;
    }
  }
  return out + s.slice(p);
}

function entity(ref: string, problem: (code: string, detail: string) => void): string | null {
  switch (ref) {
    case 'lt':
      return '<';
    case 'gt':
      return '>';
    case 'amp':
      return '&';
    case 'quot':
      return '"';
    case 'apos':
      return "'";
  }
  if (ref.charCodeAt(0) !== 0x23) return null;
  const hex = ref.charCodeAt(1) === 0x78;
  const digits = ref.slice(hex ? 2 : 1);
  if (digits.length === 0 || !(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) return null;
  const cp = digits.length > 8 ? -1 : parseInt(digits, hex ? 16 : 10);
  // XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
  const ok = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
  if (!ok) {
    problem('xmpp_bad_char_ref', `&${ref}; is not an XML character (U+${cp < 0 ? '?' : cp.toString(16).toUpperCase()})`);
    return '\uFFFD';
  }
  return String.fromCodePoint(cp);
}

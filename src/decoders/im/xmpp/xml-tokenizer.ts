/**
 * A streaming, bounded XML tokenizer over UTF-8 bytes, for the restricted XML that XMPP streams use (RFC 6120 §11:
 * XML 1.0, UTF-8, no DTD, no comments, no processing instructions other than the XML declaration, only the five
 * predefined entities and character references).
 *
 * `next()` reads one token from `data[pos, end)` and says where it ends; it never consumes a partial tag: it returns
 * `Tok.Need` and remembers how far it scanned (and whether it was inside a quoted value) so that the same bytes,
 * offered again with more after them, are not scanned twice. Text is returned as byte ranges up to the next "<" (the
 * caller copies what it keeps and decodes entities once per element, so an entity or a UTF-8 sequence cut between
 * calls needs no care here). CDATA sections are returned in pieces as they arrive.
 *
 * Bounds: a markup token longer than `maxTagBytes` is not buffered: `Tok.Oversize` is returned once and the rest is
 * skipped as it arrives (an oversized start tag still ends with a `Tok.Start` flagged `oversized`, without
 * attributes, so that the caller's depth stays right). At most `maxAttributes` attributes of at most `maxAttrLength`
 * bytes are decoded. DTDs and entity declarations are skipped, never interpreted. Every call makes progress or
 * returns `Need`, so hostile input cannot loop.
 *
 * Results (`name`, `attrs`, ranges) describe the last token and are overwritten by the next call; ranges are offsets
 * into the `data` of that call.
 */

export const enum Tok {
  /** A partial token at the end: nothing consumed, call again with more bytes. */
  Need = 0,
  Start,
  End,
  /** Character data `data[textStart, textEnd)`, entities not decoded. */
  Text,
  /** A piece of a CDATA section `data[textStart, textEnd)` (literal text). */
  CData,
  /** `<?xml …?>` */
  XmlDecl,
  Comment,
  /** A processing instruction other than the XML declaration. */
  PI,
  /** `<!DOCTYPE …>` or another markup declaration (`<!ENTITY`, `<!ELEMENT`…). */
  Dtd,
  /** The markup starting here is longer than maxTagBytes; its bytes are being skipped (`what` says which kind). */
  Oversize,
  /** Bytes consumed without a token (the start of a CDATA section, a skipped stretch of oversized markup). */
  Skip,
  /** A "<" that starts no markup: one byte. */
  Junk,
}

export interface TokenizerLimits {
  readonly maxTagBytes: number;
  readonly maxAttributes: number;
  readonly maxAttrLength: number;
}

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const QMARK = 0x3f;
const BANG = 0x21;
const DQ = 0x22;
const SQ = 0x27;

/** XML name characters, ASCII part (bytes ≥ 0x80 are accepted as parts of non-ASCII names). */
const NAME = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x3a || c === 0x2d || c === 0x2e || c >= 0x80;
  NAME[c] = ok ? 1 : 0;
}
/** Characters that may start a name (digits, '-' and '.' may not). */
const isNameStart = (c: number): boolean => NAME[c] === 1 && !(c >= 0x30 && c <= 0x39) && c !== 0x2d && c !== 0x2e;
export const isXmlSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** What kind of markup is being skipped or scanned. */
const enum Mk {
  None = 0,
  Start,
  End,
  Comment,
  PI,
  Dtd,
}

const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true });

export class XmlTokenizer {
  /** Offset just after the token (what the caller may consume). */
  end = 0;
  /** Element name (Start, End), PI target, or the kind of oversized markup (Oversize: 'start tag', 'comment'…). */
  name = '';
  what = '';
  selfClose = false;
  /** A Start whose tag was longer than maxTagBytes: its attributes were not read. */
  oversized = false;
  textStart = 0;
  textEnd = 0;
  /** Attributes of the last Start: names and decoded values, `attrCount` of them. */
  readonly attrNames: string[] = [];
  readonly attrValues: string[] = [];
  attrCount = 0;
  /** Attributes beyond maxAttributes in the last Start (ignored). */
  attrsDropped = 0;
  /** Attribute values cut at maxAttrLength in the last Start; the first one's name and length. */
  attrsCut = 0;
  attrCutName = '';
  attrCutLength = 0;
  /** The last Start had an attribute it could not read (bad syntax); its description. */
  malformed: string | null = null;
  /** A value in the last Start was not valid UTF-8. */
  badUtf8 = false;

  // Resume state of a pending (partial) markup token, relative to its "<".
  private scanned = 0;
  private quote = 0;
  private bracket = 0;
  // Skipping an oversized token: its kind, and for a start tag its name.
  private skipping = Mk.None;
  private skipName = '';
  private skipSlash = false;
  private inCdata = false;
  // A Buffer view of the current data, for fast UTF-8 decoding.
  private data: Uint8Array | null = null;
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly limits: TokenizerLimits) {}

  /** Forget any partial token (after a gap: the bytes offered next are not a continuation). */
  reset(): void {
    this.scanned = 0;
    this.quote = 0;
    this.bracket = 0;
    this.skipping = Mk.None;
    this.inCdata = false;
    this.release();
  }

  /** Drop the reference to the last data (it may be a large buffer the caller is done with). */
  release(): void {
    this.data = null;
    this.buf = Buffer.alloc(0);
  }

  /** Read one token at `pos`; `wantAttrs` false skips decoding attributes (elements the caller does not keep). */
  next(data: Uint8Array, pos: number, end: number, wantAttrs: boolean): Tok {
    if (data !== this.data) {
      this.data = data;
      this.buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    }
    if (pos >= end) return Tok.Need;
    this.oversized = false;
    if (this.skipping !== Mk.None) return this.skip(data, pos, end);
    if (this.inCdata) return this.cdata(data, pos, end);
    if (data[pos] !== LT) {
      const lt = data.indexOf(LT, pos);
      this.textStart = pos;
      this.textEnd = this.end = lt < 0 || lt >= end ? end : lt;
      return Tok.Text;
    }
    if (pos + 1 >= end) return Tok.Need;
    const c = data[pos + 1]!;
    if (c === SLASH) return this.endTag(data, pos, end);
    if (c === QMARK) return this.delimited(data, pos, end, Mk.PI, 2);
    if (c === BANG) return this.bang(data, pos, end);
    if (isNameStart(c)) return this.startTag(data, pos, end, wantAttrs);
    this.end = pos + 1;
    return Tok.Junk;
  }

  /**
   * No terminator within `data[pos, min(end, pos + maxTagBytes))`: Need while the token could still end within the
   * limit, else Oversize, consuming exactly maxTagBytes bytes (the same bytes however the input was cut) and skipping
   * the rest as it comes. `scannedTo` is where the next call may resume scanning.
   */
  private partial(pos: number, end: number, kind: Mk, scannedTo: number, nameFrom: number): Tok {
    const max = this.limits.maxTagBytes;
    if (end - pos < max) {
      this.scanned = scannedTo - pos;
      return Tok.Need;
    }
    const stop = pos + max;
    this.skipping = kind;
    this.skipName = kind === Mk.Comment ? '' : this.nameAt(nameFrom, stop);
    // The last byte, for a terminator cut at the limit: "/>" of a tag, "->" of a comment, "?>" of a PI.
    this.skipSlash = this.data![stop - 1] === (kind === Mk.Comment ? 0x2d : kind === Mk.PI ? QMARK : SLASH);
    this.scanned = 0;
    this.what = kind === Mk.Start ? 'start tag' : kind === Mk.End ? 'end tag' : kind === Mk.Comment ? 'comment' : kind === Mk.PI ? 'processing instruction' : 'markup declaration';
    this.name = this.skipName;
    this.end = stop;
    return Tok.Oversize;
  }

  /** Where scanning for a token at `pos` stops: the data's end or the token size limit. */
  private cap(pos: number, end: number): number {
    return Math.min(end, pos + this.limits.maxTagBytes);
  }

  private done(): void {
    this.scanned = 0;
    this.quote = 0;
    this.bracket = 0;
  }

  /** Skip the rest of an oversized token; when it ends, report it as its own kind (flagged oversized). */
  private skip(data: Uint8Array, pos: number, end: number): Tok {
    const kind = this.skipping;
    let p = pos;
    if (kind === Mk.Comment || kind === Mk.PI) {
      const t = kind === Mk.Comment ? 0x2d : QMARK; // "-->" or "?>": look for the last char, then check before it
      for (; p < end; p++) {
        if (data[p] === GT && (p > pos ? data[p - 1] === t : this.skipSlash)) break;
        if (p === end - 1) this.skipSlash = data[p] === t;
      }
    } else {
      for (; p < end; p++) {
        const b = data[p]!;
        if (this.quote !== 0) {
          if (b === this.quote) this.quote = 0;
        } else if (kind !== Mk.End && (b === DQ || b === SQ)) this.quote = b;
        else if (kind === Mk.Dtd && b === 0x5b) this.bracket++;
        else if (kind === Mk.Dtd && b === 0x5d) this.bracket--;
        else if (b === GT && this.bracket <= 0) break;
      }
    }
    if (p >= end) {
      if (kind === Mk.Start || kind === Mk.End || kind === Mk.Dtd) this.skipSlash = data[end - 1] === SLASH;
      this.end = end;
      return Tok.Skip;
    }
    const slash = p > pos ? data[p - 1] === SLASH : this.skipSlash;
    this.skipping = Mk.None;
    this.done();
    this.end = p + 1;
    this.oversized = true;
    this.name = this.skipName;
    switch (kind) {
      case Mk.Start:
        this.selfClose = slash;
        this.attrCount = this.attrsDropped = this.attrsCut = 0;
        this.malformed = null;
        this.badUtf8 = false;
        return Tok.Start;
      case Mk.End:
        return Tok.End;
      case Mk.Comment:
        this.textStart = this.textEnd = p;
        return Tok.Comment;
      case Mk.PI:
        return this.name === 'xml' ? Tok.XmlDecl : Tok.PI;
      default:
        return Tok.Dtd;
    }
  }

  /** Comments and PIs: up to "-->" / "?>". */
  private delimited(data: Uint8Array, pos: number, end: number, kind: Mk, open: number): Tok {
    const t0 = kind === Mk.Comment ? 0x2d : QMARK;
    const lim = this.cap(pos, end);
    let p = Math.max(pos + open, pos + this.scanned);
    for (; p < lim; p++) {
      if (data[p] === GT && data[p - 1] === t0 && (kind === Mk.PI || data[p - 2] === 0x2d) && p - 1 >= pos + open) break;
    }
    if (p >= lim) return this.partial(pos, end, kind, Math.max(pos + open, lim - 2), kind === Mk.PI ? pos + 2 : pos + 4);
    this.done();
    this.oversized = false;
    this.end = p + 1;
    const name = kind === Mk.PI ? this.nameAt(pos + 2, Math.min(p, pos + 64)) : '';
    this.name = name;
    if (kind === Mk.Comment) {
      this.textStart = pos + 4;
      this.textEnd = p - 2;
      return Tok.Comment;
    }
    return name === 'xml' ? Tok.XmlDecl : Tok.PI;
  }

  /** "<!": a comment, a CDATA section, or a markup declaration. */
  private bang(data: Uint8Array, pos: number, end: number): Tok {
    const avail = end - pos;
    if (matchPrefix(data, pos, end, '<!--') === 1) return this.delimited(data, pos, end, Mk.Comment, 4);
    const cd = matchPrefix(data, pos, end, '<![CDATA[');
    if (cd === 1) {
      this.inCdata = true;
      this.end = pos + 9;
      return Tok.Skip;
    }
    if ((cd === 0 || matchPrefix(data, pos, end, '<!--') === 0) && avail < 9) return Tok.Need;
    // A declaration: scan to its ">" outside quotes and outside an internal subset "[…]".
    const lim = this.cap(pos, end);
    let p = pos + Math.max(2, this.scanned);
    for (; p < lim; p++) {
      const b = data[p]!;
      if (this.quote !== 0) {
        if (b === this.quote) this.quote = 0;
      } else if (b === DQ || b === SQ) this.quote = b;
      else if (b === 0x5b) this.bracket++;
      else if (b === 0x5d) this.bracket--;
      else if (b === GT && this.bracket <= 0) break;
    }
    if (p >= lim) return this.partial(pos, end, Mk.Dtd, lim, pos + 2);
    this.done();
    this.oversized = false;
    this.name = this.nameAt(pos + 2, Math.min(p, pos + 64));
    this.end = p + 1;
    return Tok.Dtd;
  }

  private cdata(data: Uint8Array, pos: number, end: number): Tok {
    let p = pos;
    for (; p + 2 < end; p++) if (data[p] === 0x5d && data[p + 1] === 0x5d && data[p + 2] === GT) break;
    this.textStart = pos;
    if (p + 2 < end) {
      this.inCdata = false;
      this.textEnd = p;
      this.end = p + 3;
      return Tok.CData;
    }
    // Keep the last two bytes: they may be the start of "]]>".
    if (end - pos <= 2) return Tok.Need;
    this.textEnd = this.end = end - 2;
    return Tok.CData;
  }

  private endTag(data: Uint8Array, pos: number, end: number): Tok {
    const from = Math.max(pos + 2, pos + this.scanned);
    const lim = this.cap(pos, end);
    const gt = data.indexOf(GT, from);
    if (gt < 0 || gt >= lim) return this.partial(pos, end, Mk.End, lim, pos + 2);
    let q = pos + 2;
    while (q < gt && NAME[data[q]!] === 1) q++;
    this.done();
    this.oversized = false;
    this.name = this.str(pos + 2, q);
    this.malformed = null;
    for (let r = q; r < gt; r++) {
      if (!isXmlSpace(data[r]!)) {
        this.malformed = `end tag </${this.name}> has ${gt - q} unexpected bytes before ">"`;
        break;
      }
    }
    this.end = gt + 1;
    return Tok.End;
  }

  private startTag(data: Uint8Array, pos: number, end: number, wantAttrs: boolean): Tok {
    const lim = this.cap(pos, end);
    let p = pos + Math.max(1, this.scanned);
    let quote = this.quote;
    for (; p < lim; p++) {
      const b = data[p]!;
      if (quote !== 0) {
        if (b === quote) quote = 0;
      } else if (b === DQ || b === SQ) quote = b;
      else if (b === GT) break;
    }
    if (p >= lim) {
      this.quote = quote;
      return this.partial(pos, end, Mk.Start, lim, pos + 1);
    }
    let q = pos + 1;
    while (q < p && NAME[data[q]!] === 1) q++;
    this.done();
    this.oversized = false;
    this.name = this.str(pos + 1, q);
    this.end = p + 1;
    this.selfClose = data[p - 1] === SLASH && p - 1 >= q;
    this.attrCount = this.attrsDropped = this.attrsCut = 0;
    this.malformed = null;
    this.badUtf8 = false;
    const attrEnd = this.selfClose ? p - 1 : p;
    if (q < attrEnd && !isXmlSpace(data[q]!)) this.malformed = `start tag <${this.name}> has a bad character 0x${data[q]!.toString(16)} after its name`;
    else if (wantAttrs) this.attributes(data, q, attrEnd);
    return Tok.Start;
  }

  /** Attributes in `data[p, end)`: name = "value" or 'value', separated by whitespace. */
  private attributes(data: Uint8Array, p: number, end: number): void {
    const lim = this.limits;
    while (p < end) {
      while (p < end && isXmlSpace(data[p]!)) p++;
      if (p >= end) break;
      const ns = p;
      while (p < end && NAME[data[p]!] === 1) p++;
      if (p === ns || !isNameStart(data[ns]!)) {
        this.malformed = `start tag <${this.name}> has a bad character 0x${data[ns]!.toString(16)} where an attribute name should be`;
        return;
      }
      const aname = this.str(ns, p);
      while (p < end && isXmlSpace(data[p]!)) p++;
      if (data[p] !== 0x3d || p >= end) {
        this.malformed = `attribute ${aname} of <${this.name}> has no value`;
        return;
      }
      p++;
      while (p < end && isXmlSpace(data[p]!)) p++;
      const qc = data[p];
      if (p >= end || (qc !== DQ && qc !== SQ)) {
        this.malformed = `attribute ${aname} of <${this.name}> has an unquoted value`;
        return;
      }
      const vs = p + 1;
      let ve = data.indexOf(qc, vs);
      if (ve < 0 || ve >= end) {
        this.malformed = `attribute ${aname} of <${this.name}> has no closing quote`;
        return;
      }
      p = ve + 1;
      if (this.attrCount >= lim.maxAttributes) {
        this.attrsDropped++;
        continue;
      }
      if (ve - vs > lim.maxAttrLength) {
        if (this.attrsCut++ === 0) {
          this.attrCutName = aname;
          this.attrCutLength = ve - vs;
        }
        ve = vs + lim.maxAttrLength;
        while (ve > vs && (data[ve]! & 0xc0) === 0x80) ve--; // do not cut a UTF-8 sequence
      }
      this.attrNames[this.attrCount] = aname;
      this.attrValues[this.attrCount] = this.str(vs, ve);
      this.attrCount++;
    }
  }

  /** The name starting at `s`, at most 256 bytes of it. */
  private nameAt(s: number, end: number): string {
    const d = this.data!;
    let q = s;
    while (q < end && q < s + 256 && NAME[d[q]!] === 1) q++;
    return this.str(s, q);
  }

  /** `data[s, e)` as text (UTF-8); short ASCII runs without a Buffer call. Sets badUtf8 on invalid sequences. */
  str(s: number, e: number): string {
    const d = this.data!;
    if (e - s <= 24) {
      let out = '';
      let i = s;
      for (; i < e; i++) {
        const b = d[i]!;
        if (b >= 0x80) break;
        out += String.fromCharCode(b);
      }
      if (i === e) return out;
    }
    const text = this.buf.toString('utf8', s, e);
    if (text.includes('\uFFFD') && !validUtf8(d, s, e)) this.badUtf8 = true;
    return text;
  }
}

/** Whether `data[s, e)` is valid UTF-8 (U+FFFD written as such is valid). */
export function validUtf8(data: Uint8Array, s: number, e: number): boolean {
  try {
    UTF8_FATAL.decode(data.subarray(s, e));
    return true;
  } catch {
    return false;
  }
}

/** 1: `text` is at `pos`; 0: the bytes so far agree but there are too few; -1: it is not. */
function matchPrefix(data: Uint8Array, pos: number, end: number, text: string): -1 | 0 | 1 {
  for (let i = 0; i < text.length; i++) {
    if (pos + i >= end) return 0;
    if (data[pos + i] !== text.charCodeAt(i)) return -1;
  }
  return 1;
}

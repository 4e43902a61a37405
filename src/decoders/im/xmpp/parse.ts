/**
 * The XMPP stream reader: one per direction, on top of the XML tokenizer. It tracks the stream root
 * (`<stream:stream>`, RFC 6120 §4.8, including restarts after STARTTLS/SASL), resolves namespaces, and builds a small
 * element tree for each stanza (first-level element under the root: message, presence, iq, features, SASL and TLS
 * elements, dialback) that it hands over when the stanza's end tag arrives. Without a stream header (a flow picked up
 * mid-stream) first-level elements are stanzas too.
 *
 * Bounded: stanza bytes, depth and element count are checked as the bytes arrive; a stanza over a limit is dropped
 * (one anomaly) and the reader resyncs at its end tag. Text is copied per element into reused per-depth buffers and
 * decoded once, at the element's end; entities are decoded there (only the five predefined ones and character
 * references: XMPP has no DTD, RFC 6120 §11.1). Subtrees the session does not want (photos, avatars, encrypted
 * payloads) are counted but not kept.
 *
 * References: RFC 6120 §4 (streams), §11 (XML usage); XML 1.0 (Fifth Edition) §2.2 (Char), §4.1 (character references).
 */
import type { Time } from '../types.js';
import { NS, type XmppLimits } from './schema.js';
import { decodeEntities, XEl } from './element.js';
import { isXmlSpace, Tok, validUtf8, XmlTokenizer } from './xml-tokenizer.js';

export { XEl };

export interface ReaderEvents {
  /** A stream header (`<stream:stream …>`), also when the stream restarts. */
  streamOpen(header: XEl, ts: Time): void;
  streamClose(ts: Time): void;
  stanza(el: XEl, ts: Time): void;
  /**
   * Non-whitespace text outside any stanza, once per run (until the next markup): its first byte and that byte's
   * stream offset (the same however the bytes were cut).
   */
  junk(first: number, at: number, ts: Time): void;
  anomaly(code: string, detail: string, ts: Time): void;
  /** Whether to skip the content of an element (kept as an empty `skipped` element). */
  skipSubtree(local: string, ns: string): boolean;
}

/** One open element. */
interface Frame {
  name: string;
  ns: string;
  /** Default namespace in scope for its children. */
  dflt: string;
  prefixes: Map<string, string> | null;
  el: XEl | null;
  text: Uint8Array;
  textLen: number;
}

const EMPTY = new Uint8Array(0);
const AMP = new Uint8Array([0x26, 0x61, 0x6d, 0x70, 0x3b]); // "&amp;"

export class XmppStreamReader {
  /** Set by an event handler to make `feed` return after the current token (the session looks at what follows). */
  stop = false;
  /** Bytes consumed so far (for anomaly details). */
  offset = 0;
  private readonly tok: XmlTokenizer;
  private readonly stack: Frame[] = [];
  private depth = 0;
  /** Elements open beyond maxDepth (counted only). */
  private overflow = 0;
  private rootOpen = false;
  private stanzaBytes = 0;
  /** Stream offset of the current stanza's start tag. */
  private stanzaAt = 0;
  private stanzaElements = 0;
  /** The stanza being read is dropped (over a limit, malformed). */
  private dropped = false;
  /** Depth index where a skipped subtree starts, -1 when none. */
  private skipFrom = -1;
  private ts: Time = [0, 0];
  /** Bytes of the token being handled. */
  private tokLen = 0;
  /** Inside a run of junk text (reported once). */
  private junkRun = false;
  /** Stream offset where the last oversized token started (its later pieces report it). */
  private oversizeAt = 0;

  constructor(
    private readonly limits: XmppLimits,
    private readonly ev: ReaderEvents,
  ) {
    this.tok = new XmlTokenizer(limits);
  }

  /**
   * After a gap: the rest of the cut stanza arrives without its start, so its text and end tags are ignored (not
   * reported) until the next element starts.
   */
  private resyncing = false;

  /** Forget partial input (after a gap); the stream root stays open. */
  reset(): void {
    this.tok.reset();
    this.resyncing = true;
    this.depth = this.rootOpen ? 1 : 0;
    this.overflow = 0;
    this.dropped = false;
    this.skipFrom = -1;
    const root = this.stack[0];
    if (root !== undefined) root.textLen = 0;
  }

  /** Consume `data[off, off + len)`; returns the bytes consumed (a partial token at the end is left). */
  feed(data: Uint8Array, off: number, len: number, ts: Time): number {
    const end = off + len;
    const tok = this.tok;
    this.ts = ts;
    let pos = off;
    this.stop = false;
    while (pos < end && !this.stop) {
      const k = tok.next(data, pos, end, this.wantAttrs());
      if (k === Tok.Need) break;
      const n = tok.end - pos;
      this.tokLen = n;
      if (this.inStanza()) this.countBytes(n);
      if (k !== Tok.Text && k !== Tok.CData && k !== Tok.Junk && k !== Tok.Skip) this.junkRun = false;
      const at = tok.oversized && k !== Tok.Oversize ? this.oversizeAt : this.offset;
      switch (k) {
        case Tok.Text:
        case Tok.CData:
          this.text(data, tok.textStart, tok.textEnd, k === Tok.CData);
          break;
        case Tok.Start:
          this.start();
          break;
        case Tok.End:
          this.end(tok.name, tok.malformed);
          break;
        case Tok.XmlDecl:
          if (this.inStanza()) this.restricted('an XML declaration inside a stanza', at);
          break;
        case Tok.Comment:
          this.restricted('a comment', at);
          break;
        case Tok.PI:
          this.restricted(`a processing instruction <?${tok.name}`, at);
          break;
        case Tok.Dtd:
          this.anomaly('xmpp_dtd_forbidden', `<!${tok.name} declaration of ${tok.oversized ? `more than ${this.limits.maxTagBytes}` : n} bytes at stream offset ${at} (XMPP allows none)`);
          this.dropStanza();
          break;
        case Tok.Oversize:
          this.oversizeAt = this.offset;
          this.anomaly('xmpp_tag_size_exceeded', `${tok.what} <${tok.name}> longer than ${this.limits.maxTagBytes} bytes (limit ${this.limits.maxTagBytes}) at stream offset ${this.offset}`);
          this.dropStanza();
          break;
        case Tok.Junk:
          if (this.inStanza()) {
            this.anomaly('xmpp_malformed_tag', `"<" followed by 0x${(data[pos + 1] ?? 0).toString(16)} at stream offset ${this.offset}`);
            this.dropStanza();
          } else this.junkAt(0x3c, this.offset);
          break;
        default: // Skip
          break;
      }
      this.offset += n;
      pos = tok.end;
    }
    tok.release();
    return pos - off;
  }

  private inStanza(): boolean {
    return this.depth + this.overflow > (this.rootOpen ? 1 : 0);
  }

  private wantAttrs(): boolean {
    return !(this.inStanza() && (this.dropped || this.skipFrom >= 0 || this.overflow > 0));
  }

  private readonly entityProblem = (code: string, detail: string): void => this.anomaly(code, `${detail} at stream offset ${this.offset}`);

  private anomaly(code: string, detail: string): void {
    this.ev.anomaly(code, detail, this.ts);
  }

  private restricted(what: string, at: number): void {
    this.anomaly('xmpp_restricted_xml', `${what} at stream offset ${at} (XMPP allows none)`);
  }

  private junkAt(first: number, at: number): void {
    if (this.junkRun || this.resyncing) return;
    this.junkRun = true;
    this.ev.junk(first, at, this.ts);
  }

  private countBytes(n: number): void {
    this.stanzaBytes += n;
    if (!this.dropped && this.stanzaBytes > this.limits.maxStanzaBytes) {
      const top = this.stack[this.rootOpen ? 1 : 0];
      this.anomaly('xmpp_stanza_size_exceeded', `stanza <${top?.name ?? '?'}> at stream offset ${this.stanzaAt} is longer than ${this.limits.maxStanzaBytes} bytes (limit maxStanzaBytes)`);
      this.dropStanza();
    }
  }

  /** Drop the stanza being read, if any: nothing of it is reported; parsing goes on to its end tag. */
  private dropStanza(): void {
    if (!this.inStanza() || this.dropped) return;
    this.dropped = true;
    for (let i = this.rootOpen ? 1 : 0; i < this.depth; i++) {
      const f = this.stack[i]!;
      f.textLen = 0;
      f.el = null;
    }
  }

  private frame(i: number): Frame {
    let f = this.stack[i];
    if (f === undefined) {
      f = { name: '', ns: '', dflt: '', prefixes: null, el: null, text: EMPTY, textLen: 0 };
      this.stack[i] = f;
    }
    return f;
  }

  private start(): void {
    this.resyncing = false;
    const tok = this.tok;
    const lim = this.limits;
    const stanzaLevel = this.rootOpen ? 1 : 0;
    if (this.overflow > 0 || (this.depth >= lim.maxDepth && this.depth >= stanzaLevel + 1)) {
      if (this.overflow === 0) this.anomaly('xmpp_depth_exceeded', `element <${tok.name}> at depth ${this.depth + 1} exceeds ${lim.maxDepth} (limit maxDepth)`);
      this.dropStanza();
      if (!tok.selfClose) this.overflow++;
      return;
    }
    const parent = this.depth > 0 ? this.stack[this.depth - 1]! : null;
    const keep = !(this.depth >= stanzaLevel + 1 && (this.dropped || this.skipFrom >= 0));
    // Namespaces: the element's own declarations, then its prefix (RFC 6120 §4.8.5 relies on the stream's ones).
    let dflt = parent?.dflt ?? '';
    let prefixes = parent?.prefixes ?? null;
    if (keep) {
      let own: Map<string, string> | null = null; // copied on the first declaration only
      for (let i = 0; i < tok.attrCount; i++) {
        const n = tok.attrNames[i]!;
        if (n === 'xmlns') dflt = tok.attrValues[i]!;
        else if (n.startsWith('xmlns:')) {
          if (own === null) prefixes = own = new Map(prefixes ?? []);
          own.set(n.slice(6), tok.attrValues[i]!);
        }
      }
    }
    const name = tok.name;
    const colon = name.indexOf(':');
    const local = colon < 0 ? name : name.slice(colon + 1);
    const ns = colon < 0 ? dflt : name.startsWith('xml:') ? NS.xml : (prefixes?.get(name.slice(0, colon)) ?? '');
    // A stream header: the root of a new stream (a restart drops whatever was open).
    // (An oversized header lost its attributes: recognised by its usual name, outside any stanza.)
    const header = local === 'stream' && (ns === NS.stream || (tok.oversized && !this.inStanza() && (name === 'stream:stream' || name === 'stream')));
    if (header && keep) {
      if (this.inStanza()) {
        this.anomaly('xmpp_stream_restart_in_stanza', `stream header at stream offset ${this.offset} while ${this.depth - stanzaLevel} elements were open`);
      }
      this.depth = 0;
      this.overflow = 0;
      this.dropped = false;
      this.skipFrom = -1;
      const f = this.frame(0);
      f.name = name;
      f.ns = ns;
      f.dflt = dflt;
      f.prefixes = prefixes;
      f.el = null;
      f.textLen = 0;
      this.rootOpen = true;
      this.depth = 1;
      this.ev.streamOpen(this.element(name, local, ns), this.ts);
      if (tok.selfClose) this.end(name, null);
      return;
    }
    if (this.depth === stanzaLevel) {
      // A new stanza: feed() counts the bytes of tokens inside it; its start tag is counted here.
      this.stanzaBytes = 0;
      this.stanzaAt = this.offset;
      this.stanzaElements = 0;
      this.dropped = tok.oversized;
      this.skipFrom = -1;
      this.countBytes(this.tokLen);
    }
    this.stanzaElements++;
    if (!this.dropped && this.stanzaElements > lim.maxStanzaElements) {
      this.anomaly('xmpp_too_many_elements', `stanza <${this.stack[stanzaLevel]?.name ?? name}> has more than ${lim.maxStanzaElements} elements (limit maxStanzaElements)`);
      this.dropStanza();
    }
    if (tok.malformed !== null && !this.dropped && keep) {
      this.anomaly('xmpp_malformed_tag', `${tok.malformed} at stream offset ${this.offset}`);
      this.dropStanza();
    }
    let el: XEl | null = null;
    if (!this.dropped && this.skipFrom < 0) {
      el = this.element(name, local, ns);
      if (parent?.el != null && this.depth > stanzaLevel) {
        if (parent.textLen > 0) this.flushText(parent.el, parent);
        parent.el.children.push(el);
      }
      if (this.ev.skipSubtree(local, ns)) {
        el.skipped = true;
        this.skipFrom = this.depth;
      }
    }
    const f = this.frame(this.depth);
    f.name = name;
    f.ns = ns;
    f.dflt = dflt;
    f.prefixes = prefixes;
    f.el = el;
    f.textLen = 0;
    this.depth++;
    if (tok.selfClose) this.pop();
  }

  /** The element for the current Start token, with attribute anomalies reported. */
  private element(name: string, local: string, ns: string): XEl {
    const tok = this.tok;
    const attrs: string[] = new Array<string>(tok.attrCount * 2);
    for (let i = 0; i < tok.attrCount; i++) {
      attrs[2 * i] = tok.attrNames[i]!;
      attrs[2 * i + 1] = tok.attrValues[i]!.includes('&') ? decodeEntities(tok.attrValues[i]!, this.entityProblem) : tok.attrValues[i]!;
    }
    if (tok.attrsDropped > 0) this.anomaly('xmpp_too_many_attributes', `<${name}> has ${tok.attrCount + tok.attrsDropped} attributes, more than ${this.limits.maxAttributes} (limit maxAttributes)`);
    if (tok.attrsCut > 0) this.anomaly('xmpp_attribute_too_long', `attribute ${tok.attrCutName} of <${name}> has ${tok.attrCutLength} bytes, more than ${this.limits.maxAttrLength} (limit maxAttrLength)`);
    if (tok.badUtf8) this.anomaly('xmpp_invalid_utf8', `attribute of <${name}> is not valid UTF-8 at stream offset ${this.offset}`);
    return new XEl(name, local, ns, attrs);
  }

  private end(name: string, malformed: string | null): void {
    if (this.overflow > 0) {
      this.overflow--;
      return;
    }
    const stanzaLevel = this.rootOpen ? 1 : 0;
    if (this.depth === 0) {
      // A stream close seen without its header (picked up mid-stream) is normal; anything else is not.
      if (!(name.endsWith(':stream') || name === 'stream') && !this.resyncing) this.anomaly('xmpp_unbalanced_tag', `end tag </${name}> with no open element at stream offset ${this.offset}`);
      return;
    }
    if (malformed !== null && !this.dropped && this.inStanza()) {
      this.anomaly('xmpp_malformed_tag', `${malformed} at stream offset ${this.offset}`);
      this.dropStanza();
    }
    const top = this.stack[this.depth - 1]!;
    if (top.name === name) {
      this.pop();
      return;
    }
    let k = this.depth - 2;
    while (k >= 0 && this.stack[k]!.name !== name) k--;
    if (k < 0) {
      if (this.resyncing) return;
      this.anomaly('xmpp_unbalanced_tag', `end tag </${name}> matches no open element (innermost <${top.name}>, depth ${this.depth}) at stream offset ${this.offset}`);
      return;
    }
    this.anomaly('xmpp_tag_mismatch', `end tag </${name}> while <${top.name}> is open at depth ${this.depth} (its element is at depth ${k + 1}) at stream offset ${this.offset}`);
    this.dropStanza(); // a stanza is open (the root alone cannot mismatch): it is malformed
    while (this.depth > k) this.pop();
  }

  /** Close the innermost element: decode its text; hand over a finished stanza; close the stream at the root. */
  private pop(): void {
    const i = this.depth - 1;
    const f = this.stack[i]!;
    this.depth = i;
    const stanzaLevel = this.rootOpen ? 1 : 0;
    if (i === 0 && this.rootOpen) {
      this.rootOpen = false;
      f.textLen = 0;
      this.ev.streamClose(this.ts);
      return;
    }
    if (this.skipFrom === i) this.skipFrom = -1;
    const el = f.el;
    if (el !== null && f.textLen > 0) this.flushText(el, f);
    f.textLen = 0;
    f.el = null;
    if (i === stanzaLevel) {
      const dropped = this.dropped;
      this.dropped = false;
      this.skipFrom = -1;
      if (!dropped && el !== null) this.ev.stanza(el, this.ts);
    }
  }

  /** The text gathered in `el`'s frame so far: its `text` before any child, else the last child's `tail`. */
  private flushText(el: XEl, f: Frame): void {
    let text = this.bufOf(f.text).toString('utf8', 0, f.textLen);
    if (text.includes('\uFFFD') && !validUtf8(f.text, 0, f.textLen)) {
      el.raw = Uint8Array.prototype.slice.call(f.text, 0, f.textLen); // a copy: the buffer is reused (Buffer#slice would be a view)
      this.anomaly('xmpp_invalid_utf8', `text of <${el.name}> (${f.textLen} bytes) is not valid UTF-8 at stream offset ${this.offset}`);
    }
    if (text.includes('&')) text = decodeEntities(text, this.entityProblem);
    f.textLen = 0;
    const last = el.children[el.children.length - 1];
    if (last === undefined) el.text += text;
    else last.tail += text;
  }

  private bufOf(b: Uint8Array): Buffer {
    return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }

  /** Character data: kept (as escaped bytes) for elements of a kept stanza; outside stanzas only whitespace is expected. */
  private text(data: Uint8Array, s: number, e: number, cdata: boolean): void {
    if (!this.inStanza()) {
      for (let i = s; i < e; i++) {
        if (!isXmlSpace(data[i]!)) {
          this.junkAt(data[i]!, this.offset + (i - s));
          break;
        }
      }
      return;
    }
    if (this.dropped || this.skipFrom >= 0 || this.overflow > 0) return;
    const f = this.stack[this.depth - 1]!;
    if (f.el === null) return;
    if (!cdata) {
      this.append(f, data, s, e);
      return;
    }
    // CDATA is literal: escape "&" so that the entity decoding at the element's end gives it back unchanged.
    let p = s;
    for (let i = s; i < e; i++) {
      if (data[i] === 0x26) {
        this.append(f, data, p, i);
        this.append(f, AMP, 0, AMP.length);
        p = i + 1;
      }
    }
    this.append(f, data, p, e);
  }

  private append(f: Frame, data: Uint8Array, s: number, e: number): void {
    const n = e - s;
    if (n <= 0) return;
    if (f.textLen + n > f.text.length) {
      // Grows to at most about maxStanzaBytes (the stanza is dropped beyond it); reused by later stanzas.
      const size = Math.min(Math.max(256, (f.textLen + n) * 2), this.limits.maxStanzaBytes * 2 + 16);
      const nb = Buffer.allocUnsafe(Math.max(size, f.textLen + n));
      nb.set(f.text.subarray(0, f.textLen));
      f.text = nb;
    }
    f.text.set(data.subarray(s, e), f.textLen);
    f.textLen += n;
  }
}

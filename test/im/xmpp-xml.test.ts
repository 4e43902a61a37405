// The XML layer on its own: the tokenizer's tokens, resumption of partial tags and its bounds; the stream reader's
// namespaces, entities, CDATA, mixed content, UTF-8 handling and limits (with small limits to reach them cheaply).
import t from 'tap';
import type { Time } from '../../src/decoders/im/types.js';
import { XmppStreamReader, type XEl } from '../../src/decoders/im/xmpp/parse.js';
import { XMPP_ANOMALIES, XMPP_LIMITS, type XmppLimits } from '../../src/decoders/im/xmpp/schema.js';
import { Tok, XmlTokenizer } from '../../src/decoders/im/xmpp/xml-tokenizer.js';

const T0: Time = [1_700_000_000, 0];
/** Tok's names, in its order (a const enum has no reverse mapping). */
const TOK = ['Need', 'Start', 'End', 'Text', 'CData', 'XmlDecl', 'Comment', 'PI', 'Dtd', 'Oversize', 'Skip', 'Junk'];

function tokens(text: string | Buffer, lim = { maxTagBytes: 64, maxAttributes: 4, maxAttrLength: 16 }): string[] {
  const tok = new XmlTokenizer(lim);
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  const out: string[] = [];
  let pos = 0;
  while (pos < data.length) {
    const k = tok.next(data, pos, data.length, true);
    if (k === Tok.Need) {
      out.push('Need');
      break;
    }
    const attrs = k === Tok.Start ? tok.attrNames.slice(0, tok.attrCount).map((n, i) => ` ${n}=${tok.attrValues[i]}`).join('') : '';
    const body = k === Tok.Text || k === Tok.CData || k === Tok.Comment ? `:${data.toString('utf8', tok.textStart, tok.textEnd)}` : '';
    const flags = (k === Tok.Start && tok.selfClose ? '/' : '') + (tok.oversized && (k === Tok.Start || k === Tok.End) ? '!' : '');
    out.push(`${TOK[k]}${k === Tok.Start || k === Tok.End || k === Tok.Dtd || k === Tok.PI || k === Tok.Oversize ? `(${tok.name})` : ''}${flags}${attrs}${body}`);
    pos = tok.end;
  }
  return out;
}

t.test('tokens', async (t) => {
  t.same(tokens(`<a x='1' y="a&amp;b>c">te&lt;xt<![CDATA[<&>]]></a>`), ['Start(a) x=1 y=a&amp;b>c', 'Text:te&lt;xt', 'Skip', 'CData:<&>', 'End(a)']);
  t.same(tokens(`<?xml version='1.0'?><b/><!-- c --><?pi x?>`), ['XmlDecl', 'Start(b)/', 'Comment: c ', 'PI(pi)']);
  t.same(tokens(`<!DOCTYPE x [<!ENTITY a "]>">]><y>`), ['Dtd(DOCTYPE)', 'Start(y)']);
  t.same(tokens(`< a><3`), ['Junk', 'Text: a>', 'Junk', 'Text:3']);
  t.same(tokens(`<a b='1`), ['Need']);
  t.same(tokens(`<a b c='1'>`), ['Start(a)'], 'a malformed attribute: the tag is still an element');
});

t.test('partial tags resume where the scan stopped, quotes included', async (t) => {
  const tok = new XmlTokenizer(XMPP_LIMITS);
  const full = Buffer.from(`<message to='a>b' id="x'y">`);
  for (let n = 1; n < full.length; n++) t.equal(tok.next(full, 0, n, true), Tok.Need, `need at ${n}`);
  t.equal(tok.next(full, 0, full.length, true), Tok.Start);
  t.same([tok.name, tok.attrValues.slice(0, tok.attrCount)], ['message', ['a>b', "x'y"]]);
});

t.test('bounds: oversized tags are skipped without buffering; attributes limited', async (t) => {
  t.same(tokens(`<aaaa ${'x'.repeat(100)}/>z`), ['Oversize(aaaa)', 'Start(aaaa)/!', 'Text:z']);
  t.same(tokens(`<!-- ${'-'.repeat(80)} -->z`), ['Oversize()', 'Comment:', 'Text:z']);
  const tok = new XmlTokenizer({ maxTagBytes: 1000, maxAttributes: 2, maxAttrLength: 4 });
  const d = Buffer.from(`<a p='123456' q='é€€' r='1' s='2'>`);
  t.equal(tok.next(d, 0, d.length, true), Tok.Start);
  t.same([tok.attrValues.slice(0, tok.attrCount), tok.attrsDropped, tok.attrsCut], [['1234', 'é'], 2, 2], 'cut on a UTF-8 boundary');
  // Oversized and delivered a byte at a time: consumed as it comes, never held.
  const big = Buffer.from(`<a x='${'y'.repeat(5000)}'>`);
  const small = new XmlTokenizer({ maxTagBytes: 100, maxAttributes: 4, maxAttrLength: 16 });
  let held = 0;
  let pos = 0;
  const kinds: string[] = [];
  for (let end = 1; end <= big.length; end++) {
    while (pos < end) {
      const k = small.next(big, pos, end, true);
      if (k === Tok.Need) break;
      if (k !== Tok.Skip) kinds.push(TOK[k]!);
      pos = small.end;
    }
    held = Math.max(held, end - pos);
  }
  t.same(kinds, ['Oversize', 'Start']);
  t.ok(held <= 101, `at most maxTagBytes held (${held})`);
});

interface Seen {
  stanzas: XEl[];
  headers: XEl[];
  anomalies: [string, string][];
  junk: number;
  closes: number;
}

function read(text: string | Buffer, limits: Partial<XmppLimits> = {}, chunk = Infinity): Seen {
  const seen: Seen = { stanzas: [], headers: [], anomalies: [], junk: 0, closes: 0 };
  const r = new XmppStreamReader(
    { ...XMPP_LIMITS, ...limits },
    {
      streamOpen: (h) => void seen.headers.push(h),
      streamClose: () => void seen.closes++,
      stanza: (el) => void seen.stanzas.push(el),
      junk: () => void seen.junk++,
      anomaly: (code, detail) => void seen.anomalies.push([code, detail]),
      skipSubtree: (local) => local === 'PHOTO',
    },
  );
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  let carry = Buffer.alloc(0);
  for (let i = 0; i < data.length; i += chunk) {
    const buf = Buffer.concat([carry, data.subarray(i, Math.min(data.length, i + chunk))]);
    const used = r.feed(buf, 0, buf.length, T0);
    carry = buf.subarray(used);
  }
  return seen;
}

const HEAD = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com'>`;

t.test('reader: namespaces, entities, CDATA, mixed content, skipped subtrees', async (t) => {
  const s = read(`${HEAD}
  <message to='a@b' xmlns:x='urn:x'><x:ext><x:in/></x:ext><body>1 &lt; 2 &amp;&amp; 3 &gt; 2 &#65;&#x42; &quot;q&quot; &apos;</body><c><![CDATA[<b>&amp;</b>]]> and &amp;amp;</c><p>Hi <b>there</b> you<i/>!</p><PHOTO><BINVAL>AAAA</BINVAL></PHOTO></message>
</stream:stream>`);
  t.same(s.anomalies, []);
  t.equal(s.headers.length, 1);
  t.equal(s.headers[0]!.attr('to'), 'example.com');
  t.equal(s.closes, 1);
  const m = s.stanzas[0]!;
  t.same([m.local, m.ns], ['message', 'jabber:client']);
  const ext = m.children[0]!;
  t.same([ext.name, ext.local, ext.ns, ext.children[0]!.ns], ['x:ext', 'ext', 'urn:x', 'urn:x']);
  t.equal(m.childText('body'), `1 < 2 && 3 > 2 AB "q" '`);
  t.equal(m.childText('c'), '<b>&amp;</b> and &amp;', 'CDATA is literal');
  const p = m.child('p')!;
  t.same([p.text, p.children.map((c) => [c.local, c.text, c.tail])], ['Hi ', [['b', 'there', ' you'], ['i', '', '!']]]);
  const photo = m.child('PHOTO')!;
  t.same([photo.skipped, photo.children.length], [true, 0]);
});

t.test('reader: entities XMPP does not have are left alone; bad references and UTF-8 flagged', async (t) => {
  const bad = Buffer.concat([Buffer.from(`${HEAD}<message><body>&nbsp; &#0; &#xD800; &amp x `), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(`</body></message>`)]);
  const s = read(bad);
  const body = s.stanzas[0]!.child('body')!;
  t.equal(body.text, '&nbsp; \uFFFD \uFFFD &amp x \uFFFD(\uFFFD');
  t.same(body.raw && [...body.raw.subarray(-3)], [0xc3, 0x28, 0xff]);
  t.same(
    s.anomalies.map(([c]) => c),
    ['xmpp_invalid_utf8', 'xmpp_unknown_entity', 'xmpp_bad_char_ref', 'xmpp_bad_char_ref', 'xmpp_unknown_entity'],
  );
});

t.test('reader limits: each drops the stanza, names the numbers, and the next stanza is read', async (t) => {
  const next = `<message><body>next</body></message>`;
  const cases: [string, Partial<XmppLimits>, string, RegExp][] = [
    [`<message><body>${'x'.repeat(500)}</body></message>`, { maxStanzaBytes: 200 }, 'xmpp_stanza_size_exceeded', /stanza <message> at stream offset \d+ is longer than 200 bytes/],
    [`<message>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</message>`, {}, 'xmpp_depth_exceeded', /depth 33 exceeds 32/],
    [`<message>${'<a/>'.repeat(20)}</message>`, { maxStanzaElements: 10 }, 'xmpp_too_many_elements', /more than 10 elements/],
    [`<message><body a='${'v'.repeat(300)}'/></message>`, { maxTagBytes: 200 }, 'xmpp_tag_size_exceeded', /start tag <body> longer than 200 bytes/],
    [`<message><a></b></message>`, {}, 'xmpp_tag_mismatch', /end tag <\/b> matches no open|while <a> is open/],
    [`<message><a></message>`, {}, 'xmpp_tag_mismatch', /end tag <\/message> while <a> is open at depth 3/],
    [`<message><!DOCTYPE x></message>`, {}, 'xmpp_dtd_forbidden', /<!DOCTYPE declaration of 12 bytes/],
    [`<message><body a=1/></message>`, {}, 'xmpp_malformed_tag', /unquoted value/],
  ];
  for (const [stanza, limits, code, detail] of cases) {
    for (const chunk of [Infinity, 1]) {
      const s = read(`${HEAD}${stanza}${next}`, limits, chunk);
      const codes = s.anomalies.map(([c]) => c);
      t.ok(codes.includes(code), `${code} (chunks of ${chunk}): ${codes.join(', ')}`);
      t.match(s.anomalies.find(([c]) => c === code)?.[1], detail);
      t.same(s.stanzas.map((x) => x.childText('body')), ['next'], `${code}: only the next stanza`);
    }
  }
  const attrs = read(`${HEAD}<message ${Array.from({ length: 70 }, (_, i) => `a${i}='1'`).join(' ')}><body>k</body></message>`);
  t.same(attrs.anomalies.map(([c, d]) => [c, d]), [['xmpp_too_many_attributes', '<message> has 70 attributes, more than 64 (limit maxAttributes)']]);
  t.equal(attrs.stanzas.length, 1, 'extra attributes are ignored, the stanza kept');
  for (const code of ['xmpp_stanza_size_exceeded', 'xmpp_depth_exceeded', 'xmpp_tag_mismatch']) t.ok(code in XMPP_ANOMALIES);
});

t.test('reader: restarts, stray end tags, text between stanzas', async (t) => {
  const s = read(`${HEAD}<a/> junk <b/>${HEAD}</x><c/></stream:stream>`);
  t.same(s.stanzas.map((x) => x.local), ['a', 'b', 'c']);
  t.equal(s.headers.length, 2);
  t.equal(s.junk, 1, 'one run of junk');
  t.same(s.anomalies.map(([c]) => c), ['xmpp_unbalanced_tag']);
  const r = read(`${HEAD}<message><body>cut ${HEAD}<c/>`);
  const big = read(`${HEAD}<a/>${HEAD}<b/>`, { maxTagBytes: 64 });
  t.same([big.headers.length, big.stanzas.map((x) => x.local), big.anomalies.map(([c]) => c)], [2, ['a', 'b'], ['xmpp_tag_size_exceeded', 'xmpp_tag_size_exceeded']], 'an oversized stream header is still a header');
  t.same([r.stanzas.map((x) => x.local), r.anomalies.map(([c]) => c)], [['c'], ['xmpp_restricted_xml', 'xmpp_stream_restart_in_stanza']]);
});

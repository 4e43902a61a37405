/**
 * Watchlist rules on their own: the file format (errors with file:line), matching on normalised text (case, HTML
 * wrapping, entities, NFKC, collapsed white space, word boundaries), regular expressions with their guards (a
 * catastrophic pattern refused at load, a polynomial one bounded in time), the app filter, and what an alert quotes.
 */
import t from 'tap';
import { normalize, htmlToText } from '../../src/policy/normalize.js';
import { backtrackingRisk, matchText, parseWatchlist, WATCHLIST_LIMITS, WatchlistError } from '../../src/policy/watchlist.js';

const list = (text: string) => parseWatchlist(text, 'w.txt');
const names = (text: string, body: string, format: string | null = 'text', app: string | null = 'irc') => matchText(list(text), body, format, app).map((h) => h.rule.name);

t.test('phrases: case, HTML, entities, white space, NFKC', async (t) => {
  const w = 'high "Project X"';
  for (const [body, format] of [
    ['we start project x today', 'text'],
    ['PROJECT   X', 'text'],
    ['PROJECT\t\n X', 'text'],
    ['<b>project</b>&nbsp;x', 'html'],
    ['<span style="a">Project</span> <i>X</i>', 'xhtml'],
    ['<p>project</p><p>x</p>', 'html'], // block tags separate words
    ['Ｐｒｏｊｅｃｔ　Ｘ', 'text'], // full-width letters and ideographic space: NFKC
    ['project\u00a0x', 'text'],
    ['project &#x58;', 'html'],
  ] as const) {
    t.same(names(w, body, format), ['"Project X"'], `${JSON.stringify(body)} (${format})`);
  }
  for (const [body, format] of [
    ['project xylophone', 'text'], // word boundary at the end
    ['subproject x', 'text'], // and at the start
    ['projectx', 'text'],
    ['<b>project</b>x', 'html'], // inline tags do not separate words
    ['project &amp; x', 'html'],
  ] as const) {
    t.same(names(w, body, format), [], `no hit in ${JSON.stringify(body)}`);
  }
  // Tags are text in a plain-text message.
  t.same(names(w, '<b>project</b>&nbsp;x', 'text'), []);
});

t.test('words: boundaries in any script, non-letters at the edges', async (t) => {
  t.same(names('low secret', 'a Secret plan'), ['secret']);
  t.same(names('low secret', 'secretary'), []);
  t.same(names('low secret', 'top_secret'), [], 'underscore is a word character');
  t.same(names('low secret', 'top-secret!'), ['secret']);
  t.same(names('low żółw', 'Dobrze, ŻÓŁW.'), ['żółw']);
  t.same(names('low żółw', 'żółwie'), [], 'a Polish word inside a longer one');
  t.same(names('low café', 'CAFE\u0301 noir'), ['café'], 'decomposed é is composed by NFKC');
  t.same(names('low c++', 'I write C++ code'), ['c++'], 'no boundary needed after +');
  t.same(names('low 3€', 'costs 3€, fine'), ['3€']);
});

t.test('regular expressions: on normalised text, i implied, flags checked', async (t) => {
  t.same(names('medium /\\d{3}-\\d{2}-\\d{4}/ name=ssn', 'id 123-45-6789 ok'), ['ssn']);
  t.same(names('medium /Project\\s+X/', '<b>PROJECT</b> x', 'html'), ['/Project\\s+X/']);
  t.same(names('medium /^offline/', 'Offline one'), ['/^offline/']);
  t.same(names('medium /a\\/b/', 'see A/B'), ['/a\\/b/'], 'escaped slash');
  t.same(names('medium /[/]x/', 'a/x'), ['/[/]x/'], 'slash in a class');
  t.same(names('medium /x*/', 'nothing'), [], 'an empty match is no hit');
  t.throws(() => list('high /abc/g'), { message: 'w.txt:1: flag "g" is not allowed (m, s; matching ignores case without i)' });
  t.throws(() => list('high /abc/i'), /flag "i" is not allowed/);
  t.throws(() => list('high /abc/u'), /flag "u" is not allowed/);
  t.same(names('medium /\\bSECRET\\B\\D/ name=esc', 'Secretary'), ['esc'], 'letters lower-cased, escapes kept');
  t.same(names('medium /\\x41\\u0042c/ name=hex', 'abc'), [], 'hex escapes keep their upper-case code points');
  t.throws(() => list('high /ab(c/'), /^w\.txt:1: bad regular expression: /);
});

t.test('a catastrophic regular expression is refused with its line; a polynomial one stays fast', async (t) => {
  for (const src of ['(a+)+$', '(a*)*b', '(\\w+\\s?)*$', '(a|aa)+b', '((ab)*c)+', '(x+){2,}', '(.*a){3,10}', '(a)\\1', '(?<n>a)\\k<n>', 'a(?=b)', '(?<!x)a', '\\p{L}+']) {
    t.ok(backtrackingRisk(src), `refused: ${src}`);
  }
  for (const src of ['(ab)+', '(foo|bar)', '(foo|bar)?x', 'a+b*c?', '[(+*]+', '\\(a+\\)+', '(a+)?', '(?:ab){2}', '(?<name>ab)c', '\\d{2,}']) {
    t.equal(backtrackingRisk(src), null, `allowed: ${src}`);
  }
  const e = (() => {
    try {
      list('# c\n\nhigh /(a+)+$/ name=bad');
    } catch (err) {
      return err;
    }
    return null;
  })();
  t.ok(e instanceof WatchlistError);
  t.match((e as Error).message, /^w\.txt:3: regular expression \/\(a\+\)\+\$\/: a repeated group holding a quantifier/);
  // Not nested, so allowed, but cubic for a backtracking engine on a long run of "a": bounded by the linear-engine
  // fallback and the input cap. 200 ms is generous: the unguarded expression takes minutes on 60 000 characters.
  const w = list('low /a*a*a*a*c/ name=poly');
  const body = 'a'.repeat(60_000) + 'b';
  const t0 = performance.now();
  t.same(matchText(w, body, 'text', null), []);
  const ms = performance.now() - t0;
  t.ok(ms < 2000, `polynomial pattern over ${body.length} characters took ${ms.toFixed(0)} ms`);
  // The cap: a regular expression sees the first regexInput characters only; a word sees everything.
  const tail = 'x '.repeat(WATCHLIST_LIMITS.regexInput) + 'needle';
  t.same(matchText(list('low /needle/\nlow needle'), tail, 'text', null).map((h) => h.rule.kind), ['word']);
});

t.test('app filter, severities, options, errors', async (t) => {
  const w = 'high hello app=msn,IRC name="greeting rule"\nlow hello';
  t.same(names(w, 'Hello there', 'text', 'irc'), ['greeting rule', 'hello']);
  t.same(names(w, 'Hello there', 'text', 'yahoo'), ['hello']);
  t.same(names(w, 'Hello there', 'text', null), ['hello'], 'an unknown app passes only unfiltered rules');
  t.same(list(w).rules.map((r) => [r.severity, r.line]), [['high', 1], ['low', 2]]);
  const errors: [string, string][] = [
    ['urgent hello', 'w.txt:1: unknown severity "urgent" (low, medium, high, critical)'],
    ['high', 'w.txt:1: a rule is SEVERITY PATTERN [app=APP,…] [name=NAME]; found only "high"'],
    ['\n\nlow "open phrase', 'w.txt:3: a phrase opened with " is not closed'],
    ['low ""', 'w.txt:1: empty phrase'],
    ['low hello colour=red', 'w.txt:1: unknown option "colour" (app, name)'],
    ['low hello app=', 'w.txt:1: app= names no app'],
    ['low app=irc', 'w.txt:1: missing pattern before "app=irc"'],
    ['low hello trailing', 'w.txt:1: expected app=… or name=… after the pattern, found "trailing"'],
  ];
  for (const [text, msg] of errors) t.throws(() => list(text), { message: msg }, msg);
  t.same(list('# only comments\n\n   # indented\n').rules, []);
});

t.test('matched and excerpt quote the message as written (HTML removed)', async (t) => {
  const [h] = matchText(list('high "project x"'), '<p>Our <b>PROJECT</b>&nbsp;X plan</p>', 'html', null);
  t.equal(h!.matched, 'PROJECT X');
  t.equal(h!.excerpt.trim(), 'Our PROJECT X plan');
  const long = 'y'.repeat(500) + ' Project X ' + 'z'.repeat(500);
  const [h2] = matchText(list('high "project x"'), long, 'text', null);
  t.equal(h2!.matched, 'Project X');
  t.ok(h2!.excerpt.length <= 200, `excerpt of ${h2!.excerpt.length} characters`);
  t.ok(h2!.excerpt.includes('Project X') && h2!.excerpt.startsWith('…') && h2!.excerpt.endsWith('…'));
  // A case mapping that changes length (İ → i̇) keeps quoting aligned.
  const [h3] = matchText(list('low word'), 'İİ word', 'text', null);
  t.equal(h3!.matched, 'word');
  t.equal(normalize('A  B\u00a0 C').text, 'a b c');
  t.equal(htmlToText('a<br/>b &lt;c&gt; <!-- x --> 3 < 4'), 'a b <c>  3 < 4');
});

// The pieces of the archive format on their own: RFC 2047 words, header values, addresses, times, canonical JSON.
import t from 'tap';
import { decodeValue, encodeWords, headerLine, localPart, parseEml, rfc5322Date, toEml } from '../../src/archive/eml.js';
import { canonicalJson, chainHash, GENESIS, type ChainedRecord } from '../../src/archive/record.js';
import { parseTime as parseReportTime } from '../../src/report/filters.js';

/** export transcripts takes the same times as imtap report. */
const NOW = BigInt(Date.UTC(2024, 5, 1)) * 1_000_000n;
const parseTime = (v: string) => parseReportTime(v, NOW);

t.test('encoded-words: at most 75 characters, split between characters, decoded back', async (t) => {
  for (const s of ['', 'a', '😀'.repeat(40), 'é'.repeat(100), 'x\r\ny\u0000z'.repeat(30), '日本語'.repeat(33)]) {
    const enc = encodeWords(s);
    for (const w of enc.split('\r\n ')) {
      t.ok(w.length <= 75, `word of ${w.length}`);
      // each word alone is whole UTF-8 (no character cut in two)
      const b64 = /^=\?utf-8\?B\?(.*)\?=$/.exec(w)![1]!;
      t.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64')));
    }
    t.equal(decodeValue(enc.replace(/\r\n/g, '')), s);
  }
});

t.test('header values: literal only when harmless', async (t) => {
  t.equal(headerLine('X-A', 'plain value'), 'X-A: plain value\r\n');
  t.equal(headerLine('X-A', ''), 'X-A:\r\n');
  for (const v of ['a\r\nBcc: x', ' lead', 'trail ', 'two  spaces', '=?utf-8?B?Zm9v?=', 'ü', 'x'.repeat(300), 'tab\there']) {
    const line = headerLine('X-A', v);
    t.notMatch(line.slice(0, -2), /\r\n(?![ ])/, `${JSON.stringify(v)}: no new header line`);
    t.match(line, /^X-A: =\?utf-8\?B\?/);
    t.equal(decodeValue(line.slice(4, -2).replace(/\r\n/g, '')), v);
  }
  t.equal(decodeValue(' =?utf-8?B?Zm9v?= tail'), null, 'a mix of words and text is not ours');
  t.equal(decodeValue('a =?x'), null);
});

t.test('addresses: local parts from bytes, never from raw network text', async (t) => {
  t.equal(localPart('alice'), 'alice');
  t.equal(localPart('a.b'), 'a.b');
  t.equal(localPart('.a..b.'), '%2Ea%2E%2Eb%2E');
  t.equal(localPart('a b<c>@"d"'), 'a%20b%3Cc%3E%40%22d%22');
  t.equal(localPart('ü'), '%C3%BC');
  t.equal(localPart(null), 'unknown');
  const long = localPart('x'.repeat(100));
  t.equal(long.length, 64);
  t.not(long, localPart('x'.repeat(101)), 'long accounts stay distinct');
});

t.test('dates and times', async (t) => {
  t.equal(rfc5322Date('2004-12-23T02:30:25.917981000Z'), 'Thu, 23 Dec 2004 02:30:25 +0000');
  t.equal(parseTime('2024-05-01'), BigInt(Date.UTC(2024, 4, 1)) * 1_000_000n);
  t.equal(parseTime('2024-05-01T12:00:00.000000001+02:00'), BigInt(Date.UTC(2024, 4, 1, 10)) * 1_000_000n + 1n);
  t.equal(parseTime('2024-05-01 12:00-0130'), BigInt(Date.UTC(2024, 4, 1, 13, 30)) * 1_000_000n);
  t.equal(parseTime('24h'), NOW - 24n * 3_600_000_000_000n, 'relative to now, as in imtap report');
  for (const bad of ['2024-02-30', '2024-13-01', 'yesterday', '2024-05-01T24:00', '']) t.throws(() => parseTime(bad), bad);
});

t.test('canonical JSON and the chain', async (t) => {
  t.equal(canonicalJson({ b: 1, a: [{ d: null, c: 'x\u0000' }], é: true }), '{"a":[{"c":"x\\u0000","d":null}],"b":1,"é":true}');
  t.throws(() => canonicalJson({ a: NaN }));
  const rec: ChainedRecord = {
    seq: 1, ts: '2030-01-02T03:04:05.123456789Z', app: 'irc', sender: 'a\r\nb', recipient: null, direction: 'c2s', kind: null,
    subject: '', thread: null, body: null, body_format: null, body_raw: 'AAE=', sensor: null,
    capture: { capture_id: 1, path: null, sha256: null },
    flow: { flow_id: 2, transport: 'udp', client_ip: '::1', client_port: 0, server_ip: null, server_port: null },
    chain: '',
  };
  rec.chain = chainHash(GENESIS, rec);
  t.same(parseEml(toEml(rec)), rec, 'an .eml gives back the record, nulls and empty strings told apart');
  const other = { ...rec, chain: 'ff'.repeat(32) };
  t.equal(chainHash(GENESIS, other), rec.chain, 'the chain field is not hashed');
  t.not(chainHash(GENESIS, { ...rec, subject: null }), rec.chain, 'empty and null differ');
});

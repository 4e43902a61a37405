// imtap export transcripts and imtap verify, from a database ingested from real captures (irc, msnp, built/*) plus
// hostile rows: counts against SQL, provenance against the capture files' own SHA-256, the chain recomputed here from
// the documented canonical form, .eml parsed by Python's email module, and every kind of tampering.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openStore } from '../../src/store/db.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { manifestHash } from '../../src/archive/manifest.js';
import { terminalSafe } from '../../src/util/escape.js';
import { imtap } from '../helpers/cli.js';
import { PCAPS, ROOT } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';

const tmp = tempDir('transcripts');
const db = path.join(tmp, 't.duckdb');

const captures = [
  ...fs.readdirSync(path.join(PCAPS, 'irc')).filter((f) => f.endsWith('.pcap')).map((f) => path.join(PCAPS, 'irc', f)),
  ...fs.readdirSync(path.join(PCAPS, 'msnp')).map((f) => path.join(PCAPS, 'msnp', f)),
  ...fs.readdirSync(path.join(PCAPS, 'built')).flatMap((d) =>
    fs.statSync(path.join(PCAPS, 'built', d)).isDirectory()
      ? fs.readdirSync(path.join(PCAPS, 'built', d)).filter((f) => /\.pcap/.test(f)).map((f) => path.join(PCAPS, 'built', d, f))
      : [],
  ),
].map((p) => path.relative(ROOT, p));

// Hostile text as the network could deliver it.
const EVIL_SENDER = 'evil\r\nBcc: victim@example.com';
const EVIL_RECIPIENT = '=?utf-8?B?Zm9v?= #chan';
const EVIL_SUBJECT = '  leading spaces, ünïcödé\u0000 and a tab\t ';
const EVIL_BODY = `line one\r\nX-Injected: yes\r\n\r\n\u0000NUL é 日本 😀 \u202e bidi\rlone CR\n.\n${'x'.repeat(5000)}\nend`;
const EVIL_RAW = Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0x80]);
const EVIL_APP = '../../etc/passwd';

async function sql(q: string, params: (string | number | bigint)[] = []): Promise<unknown[][]> {
  const s = await openStore(db, { readOnly: true });
  try {
    return (await s.connection.runAndReadAll(q, params)).getRowsJS() as unknown[][];
  } finally {
    s.close();
  }
}

t.before(async () => {
  const r = await imtap(['ingest', '--db', db, '--sensor', 'test-tap', ...captures]);
  if (r.code !== 0) throw new Error(r.stderr);
  const s = await openStore(db);
  try {
    const f = (await s.connection.runAndReadAll('SELECT capture_id, flow_id FROM flows ORDER BY capture_id, flow_id LIMIT 1')).getRowsJS()[0]!;
    const ins = `INSERT INTO messages (ts, capture_id, flow_id, app, sender, recipient, body, body_format, body_raw, direction, kind, subject, thread)
      VALUES (?::TIMESTAMP_NS, ?, ?, ?, ?, ?, ?, 'text', ?::BLOB, 'c2s', 'privmsg', ?, ?)`;
    await s.connection.run(ins, ['2030-01-02 03:04:05.123456789', f[0] as bigint, f[1] as bigint, 'irc', EVIL_SENDER, EVIL_RECIPIENT, EVIL_BODY, '\\xFF\\x00\\x0D\\x0A\\x80', EVIL_SUBJECT, '']);
    await s.connection.run(ins.replace('?::BLOB', 'NULL'), ['2030-01-02 03:04:06', f[0] as bigint, f[1] as bigint, EVIL_APP, null, 'x', null, null, null]);
  } finally {
    s.close();
  }
});

interface Rec {
  seq: number;
  ts: string;
  app: string;
  sender: string | null;
  recipient: string | null;
  body: string | null;
  body_raw: string | null;
  subject: string | null;
  thread: string | null;
  sensor: string | null;
  chain: string;
  capture: { capture_id: number; path: string | null; sha256: string | null };
  flow: { flow_id: number; transport: string | null; client_ip: string | null; client_port: number | null; server_ip: string | null; server_port: number | null };
}

// The canonical form as docs/reports.md states it, written again here: sorted keys, no white space, UTF-8.
function canon(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canon(o[k])}`).join(',')}}`;
}
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function readJsonl(dir: string): Map<string, Rec[]> {
  const out = new Map<string, Rec[]>();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    out.set(f, fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Rec));
  }
  return out;
}

const nsOf = (iso: string): bigint => BigInt(Date.parse(iso.slice(0, 19) + 'Z')) * 1_000_000n + BigInt(iso.slice(20, 29));

let jsonlDir = '';
let jsonlHead = '';

t.test('jsonl: every message once, with its provenance, chained', async (t) => {
  jsonlDir = path.join(tmp, 'jsonl');
  const r = await imtap(['export', 'transcripts', '--db', db, '--format', 'jsonl', '--out', jsonlDir]);
  t.equal(r.code, 0, r.stderr);
  const total = Number((await sql('SELECT count(*) FROM messages'))[0]![0]);
  t.ok(total > 50, `${total} messages`);
  const files = readJsonl(jsonlDir);
  const all = [...files.values()].flat();
  t.equal(all.length, total, 'one record per message');
  t.match(r.stdout, `${total} records in ${files.size} jsonl files`);

  // names: app and day, from a fixed alphabet; the hostile app stays inside the directory
  t.same(fs.readdirSync(jsonlDir).sort(), [...files.keys(), 'MANIFEST.json'].sort(), 'nothing but the record files and the manifest');
  for (const [name, recs] of files) {
    t.match(name, /^[a-z0-9][a-z0-9_-]*-\d{4}-\d{2}-\d{2}\.jsonl$/);
    for (const rec of recs) t.ok(name.endsWith(`-${rec.ts.slice(0, 10)}.jsonl`), `${name} holds its day only`);
  }
  t.ok([...files.keys()].some((n) => n.startsWith('etc_passwd-2030-01-02')), 'the app "../../etc/passwd" made a plain name');

  // the same messages as SQL has them: (capture, flow, ns, body)
  const fromSql = (await sql('SELECT capture_id, flow_id, epoch_ns(ts), coalesce(body, \'<null>\') FROM messages')).map((x) => `${x[0]}/${x[1]}/${x[2]}/${x[3]}`).sort();
  const fromExport = all.map((x) => `${x.capture.capture_id}/${x.flow.flow_id}/${nsOf(x.ts)}/${x.body ?? '<null>'}`).sort();
  t.same(fromExport, fromSql);

  // provenance: the capture's SHA-256 is that of the file on disk; flow endpoints as in flows
  const byPath = new Map<string, string>();
  for (const rec of all) if (rec.capture.path) byPath.set(rec.capture.path, rec.capture.sha256!);
  for (const [p, h] of byPath) t.equal(h, sha(fs.readFileSync(path.resolve(ROOT, p))), `sha256 of ${p}`);
  const flows = new Map((await sql('SELECT capture_id, flow_id, transport, client_ip, client_port, server_ip, server_port FROM flows')).map((x) => [`${x[0]}/${x[1]}`, x.slice(2)]));
  for (const rec of all.slice(0, 20)) {
    const f = rec.flow;
    t.same([f.transport, f.client_ip, f.client_port, f.server_ip, f.server_port], flows.get(`${rec.capture.capture_id}/${f.flow_id}`));
    t.equal(rec.sensor, 'test-tap');
  }

  // the hostile row: exact text, exact time, raw bytes
  const evil = all.find((x) => x.sender === EVIL_SENDER)!;
  t.ok(evil, 'hostile row exported');
  t.equal(evil.body, EVIL_BODY);
  t.equal(evil.recipient, EVIL_RECIPIENT);
  t.equal(evil.subject, EVIL_SUBJECT);
  t.equal(evil.thread, '');
  t.equal(evil.ts, '2030-01-02T03:04:05.123456789Z');
  t.same(Buffer.from(evil.body_raw!, 'base64'), EVIL_RAW);

  // the chain, recomputed from the documented form; the manifest's file hashes recomputed
  const m = JSON.parse(fs.readFileSync(path.join(jsonlDir, 'MANIFEST.json'), 'utf8'));
  const bySeq = [...all].sort((a, b) => a.seq - b.seq);
  t.same(bySeq.map((x) => x.seq), Array.from({ length: total }, (_, i) => i + 1));
  let h = Buffer.alloc(32);
  for (const rec of bySeq) {
    const { chain, ...rest } = rec;
    h = createHash('sha256').update(h).update(Buffer.from(canon(rest), 'utf8')).digest();
    if (h.toString('hex') !== chain) t.fail(`record ${rec.seq}: chain`);
  }
  t.equal(m.chain.head, h.toString('hex'));
  t.equal(m.records, total);
  t.equal(m.record_format, 'jsonl');
  t.equal(m.database.path, path.resolve(db));
  t.match(m.imtap_version, /^\d+\.\d+\.\d+/);
  for (const f of m.files) {
    const data = fs.readFileSync(path.join(jsonlDir, f.name));
    t.equal(f.sha256, sha(data), `sha256 of ${f.name}`);
    t.equal(f.bytes, data.length);
    t.equal(f.records, files.get(f.name)!.length);
  }
  t.match(r.stdout, `chain head ${m.chain.head}`);
  jsonlHead = m.chain.head;
  // and by Python's json, as docs/reports.md shows it (hostile rows included: NUL, CR, bidi, astral characters)
  const py = `import json, hashlib, glob, sys
recs = [json.loads(l) for f in glob.glob(sys.argv[1] + '/*.jsonl') for l in open(f, encoding='utf-8')]
h = bytes(32)
for rec in sorted(recs, key=lambda r: r["seq"]):
    body = {k: v for k, v in rec.items() if k != "chain"}
    h = hashlib.sha256(h + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).digest()
print(h.hex())`;
  t.equal(execFileSync('python3', ['-c', py, jsonlDir], { encoding: 'utf8' }).trim(), jsonlHead, 'the documented Python recipe gives the head');

  const v = await imtap(['verify', jsonlDir]);
  t.equal(v.code, 0, v.stdout);
  t.match(v.stdout, `OK ${jsonlDir}: ${files.size} files, ${total} records`);
  t.equal((await imtap(['verify', '--head', jsonlHead, jsonlDir])).code, 0);
});

t.test('filters: --app, --since, --until select what SQL selects', async (t) => {
  const dir = path.join(tmp, 'filtered');
  const r = await imtap(['export', 'transcripts', '--db', db, '--format', 'jsonl', '--out', dir, '--app', 'irc,msn', '--since', '2006-01-01', '--until', '2023-05-08T21:00:00+00:00']);
  t.equal(r.code, 0, r.stderr);
  const want = Number((await sql("SELECT count(*) FROM messages WHERE (app = 'irc' OR app = 'msn') AND ts >= TIMESTAMP '2006-01-01' AND ts < TIMESTAMP '2023-05-08 21:00:00'"))[0]![0]);
  t.ok(want > 0 && want < 50, `${want} selected`);
  const all = [...readJsonl(dir).values()].flat();
  t.equal(all.length, want);
  t.ok(all.every((x) => (x.app === 'irc' || x.app === 'msn') && x.ts >= '2006' && x.ts < '2023-05-08T21'));
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'MANIFEST.json'), 'utf8'));
  t.same(m.filters, { since: '2006-01-01T00:00:00.000000000Z', until: '2023-05-08T21:00:00.000000000Z', apps: ['irc', 'msn'] });
  t.equal((await imtap(['verify', dir])).code, 0);
});

t.test('an empty period: a valid, verifiable export', async (t) => {
  const dir = path.join(tmp, 'empty');
  const r = await imtap(['export', 'transcripts', '--db', db, '--format', 'eml', '--out', dir, '--since', '2099-01-01']);
  t.equal(r.code, 0, r.stderr);
  t.same(fs.readdirSync(dir), ['MANIFEST.json']);
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'MANIFEST.json'), 'utf8'));
  t.equal(m.records, 0);
  t.same(m.files, []);
  t.equal(m.chain.head, '0'.repeat(64));
  const v = await imtap(['verify', dir]);
  t.equal(v.code, 0);
  t.match(v.stdout, 'OK');
  t.match(v.stdout, '0 files, 0 records');
});

// Python's email package (policy.default: RFC 5322 + RFC 2047 decoding) reads every .eml: an independent parser.
const PY = `
import email, email.policy, json, sys, os
out = []
d = sys.argv[1]
for n in sorted(os.listdir(d)):
    if not n.endswith('.eml'): continue
    raw = open(os.path.join(d, n), 'rb').read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    fr, to = m['From'], m['To']
    out.append({'name': n, 'headers': {k: [str(x) for x in m.get_all(k)] for k in set(m.keys())},
      'from': [fr.addresses[0].display_name, fr.addresses[0].addr_spec], 'to': [to.addresses[0].display_name, to.addresses[0].addr_spec],
      'body': m.get_content(), 'ctype': m.get_content_type(), 'charset': m.get_content_charset(),
      'defects': [type(x).__name__ for x in m.defects] + [type(x).__name__ for h in m.keys() for x in getattr(m[h], 'defects', [])],
      'ascii': all(b < 128 for b in raw), 'maxline': max(len(l) for l in raw.split(b'\\r\\n'))})
json.dump(out, sys.stdout)
`;

interface PyMail {
  name: string;
  headers: Record<string, string[]>;
  from: [string, string];
  to: [string, string];
  body: string;
  ctype: string;
  charset: string;
  defects: string[];
  ascii: boolean;
  maxline: number;
}

t.test('eml: one RFC 5322 message per record, read back by Python unchanged', async (t) => {
  const dir = path.join(tmp, 'eml');
  const r = await imtap(['export', 'transcripts', '--db', db, '--format', 'eml', '--out', dir]);
  t.equal(r.code, 0, r.stderr);
  const total = Number((await sql('SELECT count(*) FROM messages'))[0]![0]);
  const names = fs.readdirSync(dir).filter((n) => n !== 'MANIFEST.json').sort();
  t.equal(names.length, total);
  t.ok(names.every((n, i) => n === `${String(i + 1).padStart(8, '0')}.eml`), 'names are the record numbers');
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'MANIFEST.json'), 'utf8'));
  t.equal(m.chain.head, jsonlHead, 'the same records, the same chain as the jsonl export');

  const mails = JSON.parse(execFileSync('python3', ['-c', PY, dir], { encoding: 'utf8', maxBuffer: 64 << 20 })) as PyMail[];
  t.equal(mails.length, total);
  const recs = new Map([...readJsonl(jsonlDir).values()].flat().map((x) => [x.seq, x]));
  for (const mail of mails) {
    const h = (k: string) => mail.headers[k]?.[0];
    const rec = recs.get(Number(h('X-Imtap-Seq')))!;
    if (!rec) {
      t.fail(`${mail.name}: seq`);
      continue;
    }
    const same = (a: unknown, b: unknown, what: string) => {
      if (a !== b) t.fail(`${mail.name}: ${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
    };
    same(mail.defects.length, 0, `defects ${mail.defects}`);
    same(mail.ascii, true, 'ASCII only');
    same(mail.maxline <= 200, true, 'line length');
    same(mail.ctype, 'text/plain', 'content type');
    same(mail.charset, 'utf-8', 'charset');
    same(mail.body, rec.body ?? '', 'body');
    same(h('X-Imtap-Chain'), rec.chain, 'chain');
    same(h('X-Imtap-Ts'), rec.ts, 'ts');
    same(h('X-Imtap-Sender'), rec.sender ?? undefined, 'sender');
    same(h('X-Imtap-Recipient'), rec.recipient ?? undefined, 'recipient');
    same(h('X-Imtap-Capture-Sha256'), rec.capture.sha256 ?? undefined, 'capture sha256');
    same(h('X-Imtap-Capture-Path'), rec.capture.path ?? undefined, 'capture path');
    same(h('X-Imtap-Client-Port'), rec.flow.client_port === null ? undefined : String(rec.flow.client_port), 'client port');
    // what a mail client shows has control characters made visible; the exact text is in X-Imtap-*
    same(h('Subject'), terminalSafe(`[${rec.app}] ${rec.sender ?? '?'} → ${rec.recipient ?? '?'}`), 'subject');
    same(mail.from[0], terminalSafe(rec.sender ?? ''), 'From display name');
    same(mail.to[0], terminalSafe(rec.recipient ?? ''), 'To display name');
    same(/^[^@\s]+@[a-z0-9-]+\.invalid$/.test(mail.from[1]), true, `From address ${mail.from[1]}`);
    same(h('Date'), new Date(rec.ts.slice(0, 19) + 'Z').toUTCString().replace('GMT', '+0000'), 'Date');
    same(/^<[0-9a-z.]+@imtap\.invalid>$/.test(h('Message-ID') ?? ''), true, 'Message-ID');
  }
  const evil = mails.find((x) => x.headers['X-Imtap-Sender']?.[0] === EVIL_SENDER)!;
  t.ok(evil, 'hostile sender round-trips through the header');
  t.equal(evil.body, EVIL_BODY, 'hostile body round-trips (CR/LF, NUL, non-ASCII, 5000-character line)');
  t.equal(evil.headers['X-Imtap-Subject']?.[0], EVIL_SUBJECT);
  t.equal(evil.headers['X-Imtap-Recipient']?.[0], EVIL_RECIPIENT, 'a value that looks like an encoded-word stays literal text');
  t.equal(evil.headers['X-Imtap-Thread']?.[0], '');
  t.equal(evil.from[0], 'evil\\x0d\\x0aBcc: victim@example.com', 'display name: CR LF visible, not a line break');
  t.equal(evil.from[1], 'evil%0D%0ABcc%3A%20victim%40example.com@irc.invalid');
  t.equal(evil.headers['Subject']?.[0], '[irc] evil\\x0d\\x0aBcc: victim@example.com → =?utf-8?B?Zm9v?= #chan');
  t.notOk('Bcc' in evil.headers || 'X-Injected' in evil.headers, 'no header injected');
  t.same(Buffer.from((evil.headers['X-Imtap-Body-Raw']?.[0] ?? '').replace(/\s+/g, ''), 'base64'), EVIL_RAW);
  const nul = mails.find((x) => x.headers['X-Imtap-App']?.[0] === EVIL_APP)!;
  t.equal(nul.headers['X-Imtap-Body']?.[0], 'null', 'a null body is told from an empty one');
  t.equal(nul.from[1], 'unknown@etc-passwd.invalid', 'null sender, hostile app: a plain pseudo-domain');

  const v = await imtap(['verify', dir]);
  t.equal(v.code, 0, v.stdout);
  t.match(v.stdout, `${total} records`);
});

/** A fresh copy of an export to damage. */
function copy(from: string, name: string): string {
  const to = path.join(tmp, name);
  fs.cpSync(from, to, { recursive: true });
  return to;
}

async function failsWith(t: Test, dir: string, ...patterns: RegExp[]) {
  const v = await imtap(['verify', dir]);
  t.equal(v.code, EXIT.VERIFY_FAILED, 'exit code for a failed verification');
  t.equal(EXIT.VERIFY_FAILED, 5);
  for (const p of patterns) t.match(v.stdout, p);
  t.match(v.stdout, /verification failed: \d+ problems?\n$/);
  return v.stdout;
}

type Lines = { file: string; lines: string[] };
function bigFile(dir: string): Lines {
  const file = fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).map((n) => ({ n, size: fs.statSync(path.join(dir, n)).size })).sort((a, b) => b.size - a.size)[0]!.n;
  return { file, lines: fs.readFileSync(path.join(dir, file), 'utf8').split('\n') };
}
const write = (dir: string, l: Lines) => fs.writeFileSync(path.join(dir, l.file), l.lines.join('\n'));

t.test('tampering is found, named, and exits 5', async (t) => {
  t.test('one byte of a record changed', async (t) => {
    const dir = copy(jsonlDir, 't-byte');
    const l = bigFile(dir);
    const rec = JSON.parse(l.lines[2]!);
    // one digit of the client port: still valid JSON, a different record
    l.lines[2] = l.lines[2]!.replace(`"client_port":${rec.flow.client_port}`, `"client_port":${rec.flow.client_port ^ 1}`);
    t.equal(Buffer.byteLength(l.lines.join('\n')), fs.statSync(path.join(dir, l.file)).size, 'same length: one byte');
    write(dir, l);
    await failsWith(t, dir, new RegExp(`FAIL ${l.file}: changed`), new RegExp(`FAIL ${l.file}:3: record ${rec.seq} altered`));
  });
  t.test('one byte of a record changed so that it is no longer JSON', async (t) => {
    const dir = copy(jsonlDir, 't-json');
    const l = bigFile(dir);
    l.lines[0] = l.lines[0]!.replace('{', '[');
    write(dir, l);
    await failsWith(t, dir, new RegExp(`FAIL ${l.file}:1: not a JSON record`), /record \d+ missing/);
  });
  t.test('a line deleted', async (t) => {
    const dir = copy(jsonlDir, 't-delete');
    const l = bigFile(dir);
    const rec = JSON.parse(l.lines[1]!);
    l.lines.splice(1, 1);
    write(dir, l);
    await failsWith(t, dir, new RegExp(`FAIL ${l.file}: changed`), new RegExp(`FAIL record ${rec.seq} missing \\(chain broken\\)`));
  });
  t.test('two lines swapped', async (t) => {
    const dir = copy(jsonlDir, 't-swap');
    const l = bigFile(dir);
    const [a, b] = [JSON.parse(l.lines[1]!).seq, JSON.parse(l.lines[2]!).seq];
    [l.lines[1], l.lines[2]] = [l.lines[2]!, l.lines[1]!];
    write(dir, l);
    await failsWith(t, dir, new RegExp(`FAIL ${l.file}: changed`), new RegExp(`FAIL ${l.file}:3: record ${a} out of order \\(after record ${b}`));
  });
  t.test('the manifest edited', async (t) => {
    const dir = copy(jsonlDir, 't-manifest');
    const p = path.join(dir, 'MANIFEST.json');
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace('"apps": []', '"apps": ["irc"]'));
    await failsWith(t, dir, /FAIL MANIFEST\.json altered: its content hashes to [0-9a-f]{64}, not to its manifest_sha256/);
    fs.writeFileSync(p, '{"format": "imtap-transcripts/1"');
    await failsWith(t, dir, /FAIL MANIFEST\.json altered: not JSON/);
  });
  t.test('a manifest re-sealed with a path outside the directory', async (t) => {
    const dir = copy(jsonlDir, 't-traversal');
    const p = path.join(dir, 'MANIFEST.json');
    const m = JSON.parse(fs.readFileSync(p, 'utf8'));
    m.files[0].name = '../t.duckdb';
    m.manifest_sha256 = manifestHash(m);
    fs.writeFileSync(p, JSON.stringify(m));
    await failsWith(t, dir, /FAIL MANIFEST\.json altered: file name "\.\.\/t\.duckdb" is not one imtap writes/, /extra file/);
  });
  t.test('a file added', async (t) => {
    const dir = copy(jsonlDir, 't-add');
    fs.writeFileSync(path.join(dir, 'irc-2031-01-01.jsonl'), '{}\n');
    fs.mkdirSync(path.join(dir, 'sub'));
    await failsWith(t, dir, /FAIL irc-2031-01-01\.jsonl: extra file, not in MANIFEST\.json/, /FAIL sub\/: extra file/);
  });
  t.test('a file removed', async (t) => {
    const dir = copy(jsonlDir, 't-remove');
    const l = bigFile(dir);
    fs.rmSync(path.join(dir, l.file));
    await failsWith(t, dir, new RegExp(`FAIL ${l.file}: missing`), /FAIL records? \d+(-\d+)? missing/);
  });
  t.test('the manifest removed: an export that did not finish', async (t) => {
    const dir = copy(jsonlDir, 't-nomanifest');
    fs.rmSync(path.join(dir, 'MANIFEST.json'));
    await failsWith(t, dir, /FAIL MANIFEST\.json missing: not an export, or the export did not finish/);
  });
  t.test('a record altered and its own chain hash recomputed: the next link breaks', async (t) => {
    const dir = copy(jsonlDir, 't-relink');
    const l = bigFile(dir);
    const rec = JSON.parse(l.lines[0]!);
    const all = [...readJsonl(dir).values()].flat();
    const prev = all.find((x) => x.seq === rec.seq - 1)?.chain ?? '0'.repeat(64);
    rec.flow.client_port = 1;
    const { chain: _c, ...rest } = rec;
    rec.chain = sha(Buffer.concat([Buffer.from(prev, 'hex'), Buffer.from(canon(rest))]));
    l.lines[0] = JSON.stringify(rec);
    write(dir, l);
    await failsWith(t, dir, new RegExp(`record ${rec.seq + 1} altered, or the record before it`), /the chain over the records ends at/);
  });
  t.test('a head kept elsewhere that differs', async (t) => {
    const v = await imtap(['verify', '--head', 'ab'.repeat(32), jsonlDir]);
    t.equal(v.code, 5);
    t.match(v.stdout, `FAIL chain head ${jsonlHead} in MANIFEST.json is not the expected ${'ab'.repeat(32)}`);
  });
  t.test('eml: a body changed', async (t) => {
    const dir = copy(path.join(tmp, 'eml'), 't-eml');
    const p = path.join(dir, '00000003.eml');
    const text = fs.readFileSync(p, 'latin1');
    const at = text.indexOf('\r\n\r\n') + 4;
    const body = Buffer.from(text.slice(at).replace(/\s+/g, ''), 'base64').toString('utf8');
    fs.writeFileSync(p, text.slice(0, at) + Buffer.from(body + '!').toString('base64') + '\r\n', 'latin1');
    await failsWith(t, dir, /FAIL 00000003\.eml: changed/, /FAIL 00000003\.eml: record 3 altered/);
  });
  t.test('eml: a header injected', async (t) => {
    const dir = copy(path.join(tmp, 'eml'), 't-eml-h');
    const p = path.join(dir, '00000004.eml');
    fs.writeFileSync(p, fs.readFileSync(p, 'latin1').replace('X-Imtap-Seq: 4\r\n', 'X-Imtap-Seq: 4\r\nX-Imtap-Seq: 5\r\n'), 'latin1');
    await failsWith(t, dir, /FAIL 00000004\.eml: not a transcript message: header X-Imtap-Seq appears 2 times/, /record 4 missing/);
  });
});

t.test('usage and errors', async (t) => {
  const used = path.join(tmp, 'jsonl');
  const again = await imtap(['export', 'transcripts', '--db', db, '--format', 'jsonl', '--out', used]);
  t.equal(again.code, EXIT.ERROR);
  t.match(again.stderr, /is not empty .*export into a new or empty directory/);
  t.equal((await imtap(['export', 'transcripts', '--db', db, '--format', 'csv', '--out', path.join(tmp, 'u1')])).code, EXIT.USAGE);
  t.equal((await imtap(['export', '--db', db, '--format', 'jsonl', '--out', path.join(tmp, 'u2')])).code, EXIT.USAGE);
  t.equal((await imtap(['export', '--db', db, '--format', 'csv', '--since', '2020-01-01', '--out', path.join(tmp, 'u3')])).code, EXIT.USAGE);
  const bad = await imtap(['export', 'transcripts', '--db', db, '--format', 'jsonl', '--since', '2024-02-30', '--out', path.join(tmp, 'u4')]);
  t.equal(bad.code, EXIT.USAGE);
  t.match(bad.stderr, '--since "2024-02-30" is not a time');
  t.equal((await imtap(['export', 'transcripts', '--db', db, '--format', 'jsonl', '--since', '2024-02-01', '--until', '2024-01-01', '--out', path.join(tmp, 'u5')])).code, EXIT.USAGE);
  t.notOk(fs.existsSync(path.join(tmp, 'u4')) || fs.existsSync(path.join(tmp, 'u5')), 'nothing written on a usage error');
  const none = await imtap(['verify', path.join(tmp, 'nowhere')]);
  t.equal(none.code, EXIT.ERROR);
  t.equal((await imtap(['verify', '--head', 'xyz', jsonlDir])).code, EXIT.USAGE);
  // the table export is as it was
  const csv = await imtap(['export', '--db', db, '--format', 'csv', '--table', 'messages', '--out', path.join(tmp, 'tables')]);
  t.equal(csv.code, 0, csv.stderr);
  t.ok(fs.existsSync(path.join(tmp, 'tables', 'messages.csv')));
});

#!/usr/bin/env node
// npm run bench: time imtap against the floor (../shared/bench/limit-walk.mjs) and peer tools on the same corpus,
// in the same run. Not part of npm test.
//
//   node bench/run.mjs [--copies 120] [--small 60] [--large 240] [--runs 3] [--no-peers]
//
// The corpus is built once by ../shared/bench/make-corpus.sh (needs tcprewrite from Debian's tcpreplay and
// mergecap/editcap/capinfos from tshark) into bench/.corpus/, and reused by later runs.
// Wall time is the median of --runs runs, taken alternately so that the machine's state affects all alike; the ratio
// to limit-walk is given both as the ratio of the medians and as the median of each round's ratio.
// Peak memory is the maximum resident set size, from /usr/bin/time where installed, else from a hook that
// reports Node's own maxRSS at exit (Node tools only).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = path.resolve(ROOT, '../shared');
const CORPUS_DIR = path.join(ROOT, 'bench/.corpus');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const copies = Number(opt('copies', 120));
const small = Number(opt('small', 60));
const large = Number(opt('large', 240));
const runs = Number(opt('runs', 3));
const peers = !args.includes('--no-peers');

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function corpus(n) {
  fs.mkdirSync(CORPUS_DIR, { recursive: true });
  const out = path.join(CORPUS_DIR, `corpus-${n}.pcap`);
  if (!fs.existsSync(out)) {
    for (const tool of ['tcprewrite', 'mergecap']) {
      if (!has(tool)) {
        console.error(`bench: ${tool} is missing; as root: apt-get install -y tcpreplay tshark`);
        process.exit(1);
      }
    }
    console.error(`bench: building ${path.relative(ROOT, out)} (${n} copies) …`);
    execFileSync('bash', [path.join(SHARED, 'bench/make-corpus.sh'), out + '.tmp', String(n)], { stdio: ['ignore', 'inherit', 'inherit'] });
    fs.renameSync(out + '.tmp', out);
  }
  return out;
}

if (!fs.existsSync(path.join(ROOT, 'dist/bin/imtap.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
const imtap = path.join(ROOT, 'dist/bin/imtap.js');
const rssHook = path.join(ROOT, 'bench/rss-hook.cjs');

/** One timed run: wall seconds and peak RSS in MiB. */
function once(cmd, argv, node) {
  // imtap runs with the V8 flag its executable's #! line gives (bin/imtap.ts); limit-walk as it is.
  const v8flags = argv[0] === imtap ? ['--max-semi-space-size=8'] : [];
  const full = node ? [process.execPath, ...v8flags, '--require', rssHook, ...argv] : [cmd, ...argv];
  const wrapped = TIME ? [TIME, '-f', 'IMTAP_MAXRSS_KB=%M IMTAP_CPU=%U+%S', ...full] : full;
  const t0 = process.hrtime.bigint();
  // Output goes to /dev/null: what is timed is the tool, not a reader of its output.
  const r = spawnSync(wrapped[0], wrapped.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && r.status !== 3) throw new Error(`${full.join(' ')} failed (${r.status}): ${r.stderr}`);
  const kb = /IMTAP_MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? /IMTAP_NODE_MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1];
  // CPU seconds (user + sys, all threads): steadier than wall time on a shared machine.
  const cpu = /IMTAP_CPU=([\d.]+)\+([\d.]+)/.exec(r.stderr);
  return { seconds, rssMiB: kb ? Number(kb) / 1024 : NaN, cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(tools, file) {
  const res = new Map(tools.map((t) => [t.name, { seconds: [], rss: [], cpu: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const t of tools) {
      const r = once(t.cmd, t.argv(file), t.node);
      res.get(t.name).seconds.push(r.seconds);
      res.get(t.name).rss.push(r.rssMiB);
      res.get(t.name).cpu.push(r.cpu);
    }
  }
  // The ratio to the first tool (limit-walk) within each round, then its median: steadier than the ratio of the
  // medians when the machine's load changes during the run.
  const ref = res.get(tools[0].name).seconds;
  return tools.map((t) => ({
    name: t.name,
    seconds: median(res.get(t.name).seconds),
    perRunRatio: median(res.get(t.name).seconds.map((s, i) => s / ref[i])),
    cpu: median(res.get(t.name).cpu),
    rssMiB: Math.max(...res.get(t.name).rss),
  }));
}

const tools = [
  { name: 'limit-walk', node: true, argv: (f) => [path.join(SHARED, 'bench/limit-walk.mjs'), f] },
  { name: 'imtap inspect', node: true, argv: (f) => [imtap, 'inspect', '--json', f] },
  { name: 'imtap inspect --flows', node: true, argv: (f) => [imtap, 'inspect', '--flows', '--json', f] },
  // ingest: the same work as --flows plus SHA-256, DuckDB and the writer; a new database file each run.
  { name: 'imtap ingest', node: true, argv: (f) => [imtap, 'ingest', '--db', freshDb(), f] },
  // Storage alone (issue 4: at most +20% over --flows): ingest with the analyzers off.
  { name: 'imtap ingest --no-analyze', node: true, argv: (f) => [imtap, 'ingest', '--no-analyze', '--db', freshDb(), f] },
];
let dbCount = 0;
function freshDb() {
  const p = path.join(CORPUS_DIR, `bench-${process.pid}-${dbCount++}.duckdb`);
  fs.rmSync(p, { force: true });
  fs.rmSync(p + '.wal', { force: true });
  return p;
}
process.on('exit', () => {
  for (const f of fs.readdirSync(CORPUS_DIR)) if (f.startsWith(`bench-${process.pid}-`)) fs.rmSync(path.join(CORPUS_DIR, f), { force: true });
});
if (peers && has('capinfos')) tools.push({ name: 'capinfos', cmd: 'capinfos', argv: (f) => ['-c', '-d', '-a', '-e', f] });
if (peers && has('tcpdump')) tools.push({ name: 'tcpdump -r (to /dev/null)', cmd: 'tcpdump', argv: (f) => ['-n', '-q', '-r', f, '-w', '/dev/null'] });
// nDPI tracks flows and classifies them (more work than --flows: deep packet inspection of every flow).
if (peers && has('ndpiReader')) tools.push({ name: 'ndpiReader (flows + DPI, 1 thread)', cmd: 'ndpiReader', argv: (f) => ['-i', f, '-q', '-n', '1'] });

const big = corpus(copies);
const size = fs.statSync(big).size;
console.log(`corpus: ${path.relative(ROOT, big)}, ${(size / 1e6).toFixed(1)} MB; ${runs} runs each, median wall time; node ${process.version}`);
const rows = measure(tools, big);
const floor = rows.find((r) => r.name === 'limit-walk');
console.log('\n| tool | wall s | MB/s | × limit-walk | × limit-walk, per run | CPU s (user+sys) | peak RSS MiB |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.seconds.toFixed(3)} | ${(size / 1e6 / r.seconds).toFixed(0)} | ${(r.seconds / floor.seconds).toFixed(2)} | ${r.perRunRatio.toFixed(2)} | ${r.cpu.toFixed(2)} | ${r.rssMiB.toFixed(0)} |`);
}

// An archive of many small captures in one run (an auditor's replay): what each capture costs besides its bytes.
// The captures of fixtures/pcaps except the demo day; the same CPU-free reference (`imtap inspect` on one of them)
// comes first so that the per-run ratio has a floor.
const archive = [];
(function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) { if (e.name !== 'demo') walk(p); } else if (/\.(pcap|pcapng)$/.test(e.name)) archive.push(p);
  }
})(path.join(ROOT, 'fixtures/pcaps'));
archive.sort();
const archiveRows = measure(
  [
    { name: 'imtap inspect (one small capture)', node: true, argv: () => [imtap, 'inspect', '--json', archive[0]] },
    { name: `imtap ingest (${archive.length} small captures, one run)`, node: true, argv: () => [imtap, 'ingest', '--db', freshDb(), ...archive] },
  ],
  big,
);
console.log(`\n| archive of ${archive.length} small captures | wall s | per capture ms | CPU s |`);
console.log('|---|---:|---:|---:|');
for (const r of archiveRows) console.log(`| ${r.name} | ${r.seconds.toFixed(3)} | ${r.name.includes('ingest') ? ((r.seconds / archive.length) * 1000).toFixed(0) : ''} | ${r.cpu.toFixed(2)} |`);

// Peak memory must not follow the size of the input.
const memory = [];
const mine = tools.filter((t) => t.name.startsWith('imtap'));
for (const n of [small, large]) {
  const f = corpus(n);
  for (const { perRunRatio: _, cpu: _c, ...r } of measure(mine, f)) memory.push({ copies: n, bytes: fs.statSync(f).size, ...r });
}
console.log(`\n| tool | peak RSS MiB, ${small} copies | peak RSS MiB, ${large} copies | ratio |`);
console.log('|---|---:|---:|---:|');
for (const t of mine) {
  const a = memory.find((m) => m.name === t.name && m.copies === small);
  const b = memory.find((m) => m.name === t.name && m.copies === large);
  console.log(`| ${t.name} | ${a.rssMiB.toFixed(0)} | ${b.rssMiB.toFixed(0)} | ${(b.rssMiB / a.rssMiB).toFixed(2)} |`);
}
console.log(JSON.stringify({ corpusBytes: size, runs, results: rows, archive: archiveRows, memory }));

// The writer alone: rows/s into a file database (bench/writer.mjs).
console.log('\nwriter (node bench/writer.mjs):');
const wr = spawnSync(process.execPath, [path.join(ROOT, 'bench/writer.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
process.stdout.write(wr.stdout);

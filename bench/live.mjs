#!/usr/bin/env node
// imtap live under load: replays the 120-copy corpus (bench/.corpus/corpus-120.pcap, see bench/README.md) with
// tcpreplay into one end of a veth pair (two network namespaces made here, removed at the end) and captures the
// other end, first with tcpdump alone writing to /dev/null, then with `imtap live` (tcpdump piped into imtap). For
// each it tries --topspeed, then fixed rates going down, and reports the highest rate with no packet lost (captured
// = sent, and tcpdump's "dropped by kernel" = 0). Needs root, ip, tcpreplay, tcpdump, and `npm run build` first.
//
//   node bench/live.mjs [--corpus FILE] [--limit PACKETS] [--rates 2000,1000,500,250,100]
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
};
const corpus = arg('--corpus', path.join(ROOT, 'bench/.corpus/corpus-120.pcap'));
const limit = Number(arg('--limit', '0'));
const rates = arg('--rates', '2000,1000,500,250,100').split(',').map(Number);
const bin = path.join(ROOT, 'dist/bin/imtap.js');
if (!fs.existsSync(corpus)) throw new Error(`${corpus}: no corpus; build it as bench/README.md says`);

const id = process.pid % 100000;
const nsA = `imtb-${id}-a`, nsB = `imtb-${id}-b`, ifA = `vba${id}`, ifB = `vbb${id}`;
const ip = (...a) => execFileSync('ip', a, { stdio: ['ignore', 'ignore', 'inherit'] });
const cleanup = () => {
  for (const ns of [nsA, nsB]) {
    for (const pid of spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean)) spawnSync('kill', ['-KILL', pid]);
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
ip('netns', 'add', nsA);
ip('netns', 'add', nsB);
ip('link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB);
ip('link', 'set', ifA, 'netns', nsA);
ip('link', 'set', ifB, 'netns', nsB);
for (const [ns, i] of [[nsA, ifA], [nsB, ifB]]) {
  spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${i}.disable_ipv6=1`]);
  ip('-n', ns, 'link', 'set', i, 'mtu', '65535', 'up');
}

function replay(rate) {
  const a = ['netns', 'exec', nsA, 'tcpreplay', '-q', '-i', ifA];
  if (rate === 'topspeed') a.push('--topspeed');
  else a.push('--mbps', String(rate));
  if (limit > 0) a.push('-L', String(limit));
  a.push(corpus);
  const r = spawnSync('ip', a, { encoding: 'utf8' });
  const sent = Number(/Actual: (\d+) packets/.exec(r.stdout)?.[1] ?? NaN);
  const failed = Number(/Failed packets:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  const secs = Number(/ in ([\d.]+) seconds/.exec(r.stdout)?.[1] ?? NaN);
  const mbps = Number(/([\d.]+) Mbps/.exec(r.stdout)?.[1] ?? NaN);
  return { sent: sent - failed, secs, mbps };
}

function waitFor(child, re, what) {
  return new Promise((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`${what} did not start: ${text}`)), 30000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c) => {
      text += c;
      if (re.test(text)) {
        clearTimeout(t);
        resolve(() => text);
      }
    });
  });
}
const exited = (c) => new Promise((r) => c.on('exit', (code) => r(code)));

async function tcpdumpAlone(rate) {
  const c = spawn('ip', ['netns', 'exec', nsB, 'tcpdump', '-U', '-n', '--immediate-mode', '-B', '65536', '-w', '/dev/null', '-i', ifB, '-s', '262144'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const text = await waitFor(c, /listening on/, 'tcpdump');
  const r = replay(rate);
  await new Promise((res) => setTimeout(res, 1000));
  c.kill('SIGTERM');
  await exited(c);
  const got = Number(/(\d+) packets captured/.exec(text())?.[1] ?? NaN);
  const dropped = Number(/(\d+) packets dropped by kernel/.exec(text())?.[1] ?? NaN);
  return { ...r, got, dropped };
}

async function imtapLive(rate) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-bench-live-'));
  const db = path.join(dir, 'live.duckdb');
  const c = spawn('ip', ['netns', 'exec', nsB, process.execPath, bin, 'live', '-i', ifB, '--db', db], { stdio: ['ignore', 'ignore', 'pipe'] });
  await waitFor(c, /capturing on/, 'imtap live');
  const t0 = process.cpuUsage();
  const r = replay(rate);
  // Let imtap drain the pipe: wait until the packet count stops growing (it is flushed every 5 s).
  await new Promise((res) => setTimeout(res, 6000));
  c.kill('SIGTERM');
  await exited(c);
  void t0;
  const q = spawnSync(process.execPath, [bin, 'query', '--db', db, '--format', 'json', 'SELECT c.packets AS got, (SELECT max(dropped_kernel) FROM capture_stats) AS dropped, (SELECT count(*) FROM flows) AS flows, (SELECT count(*) FROM messages) AS messages FROM captures c'], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  const row = JSON.parse(q.stdout)[0];
  return { ...r, got: Number(row.got), dropped: Number(row.dropped), flows: Number(row.flows), messages: Number(row.messages) };
}

const results = {};
for (const [name, fn] of [['tcpdump -w /dev/null', tcpdumpAlone], ['imtap live (tcpdump | imtap)', imtapLive]]) {
  results[name] = [];
  for (const rate of ['topspeed', ...rates]) {
    const r = await fn(rate);
    const clean = r.got === r.sent && r.dropped === 0;
    results[name].push({ rate, ...r, clean });
    console.error(`${name} at ${rate === 'topspeed' ? 'topspeed' : rate + ' Mbps'}: sent ${r.sent} in ${r.secs} s (${r.mbps} Mbps), captured ${r.got}, dropped by kernel ${r.dropped}${clean ? ' — no loss' : ''}`);
    if (clean) break;
  }
}
const best = (name) => results[name].find((r) => r.clean);
console.log(`corpus ${path.basename(corpus)}${limit ? ` (first ${limit} packets)` : ''}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'})`);
for (const name of Object.keys(results)) {
  const b = best(name);
  console.log(`${name}: ${b ? `no loss at ${b.rate === 'topspeed' ? `topspeed (${b.mbps} Mbps, ${Math.round(b.sent / b.secs)} packets/s)` : `${b.rate} Mbps (${Math.round(b.sent / b.secs)} packets/s)`}` : 'losses at every rate tried'}`);
}

/**
 * `imtap live` end to end, in network namespaces made here: tcpreplay sends real captures into one end of a veth
 * pair while `imtap live` (the built bin, through tcpdump) captures the other. The database must then hold the same
 * flows, accounts and messages as `imtap ingest` of the same files (times and ids aside: the replay restamps
 * packets); a report and a query from a second process during the capture succeed; SIGTERM flushes and exits 0;
 * SIGKILL loses nothing already flushed; an unprivileged run, a missing tcpdump and an unknown interface each get
 * their documented exit code and sentence. Also the rotating pcap files (--save-pcap) hold every packet.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EXIT } from '../../src/cli/exit-codes.js';
import { fixture, ROOT } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { makeVethPair, netnsUnavailable, type VethPair } from './netns.js';

const bin = path.join(ROOT, 'dist/bin/imtap.js');
const FILES = ['irc/irc-privmsg.pcap', 'msnp/msn-switchboard-chat.pcap', 'apps/whatsapp_login_chat.pcap'].map(fixture);
// capinfos -c of the three files: 48, 50 and 93 packets.
const PACKETS = [48, 50, 93];

const why = netnsUnavailable();
if (why !== null) {
  // A clear failure, not a skip: CI runs as root with tcpdump, tcpreplay and iproute2 installed.
  t.fail(`cannot run the live tests: ${why}`);
} else {
  const tmp = tempDir('live');

  const q = (db: string, sql: string): Record<string, unknown>[] => {
    const r = spawnSync(process.execPath, [bin, 'query', '--db', db, '--format', 'json', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`query failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>[];
  };

  interface Live {
    child: ChildProcess;
    stderr: () => string;
    exited: Promise<number | null>;
  }
  /** Starts imtap live in namespace B and resolves once it says it is capturing. */
  const startLive = async (pair: VethPair, db: string, extra: string[] = []): Promise<Live> => {
    const argv = pair.cmd(pair.nsB, [process.execPath, bin, 'live', '-i', pair.ifB, '--db', db, '--flush-every', '1s', ...extra]);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.setEncoding('utf8');
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`imtap live did not start in 20 s: ${err}`)), 20_000);
      child.stderr!.on('data', (c: string) => {
        err += c;
        if (err.includes('capturing on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`imtap live exited (${code}) before capturing: ${err}`));
      });
    });
    return { child, stderr: () => err, exited };
  };
  const replay = (pair: VethPair, files: string[], pps: number) => {
    const r = spawnSync('ip', ['netns', 'exec', pair.nsA, 'tcpreplay', '-q', '--pps', String(pps), '-i', pair.ifA, ...files], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tcpreplay failed: ${r.stderr}`);
  };
  /** Polls (from another process, as a cron report would) until the capture row shows `packets`. */
  const waitPackets = async (db: string, packets: number, ms = 15_000) => {
    const until = Date.now() + ms;
    for (;;) {
      const got = fs.existsSync(db) ? Number(q(db, 'SELECT max(packets) AS p FROM captures')[0]?.p ?? 0) : 0;
      if (got >= packets) return got;
      if (Date.now() > until) throw new Error(`the database shows ${got} packets after ${ms} ms, ${packets} expected`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  // Rows compared between live and ingest: what the analyzers found, without times and ids (the replay restamps
  // packets and the two databases number captures and flows independently). Bodies as hashes, never printed.
  const FLOWS = `SELECT transport, client_ip, client_port, server_ip, server_port, packets_c2s, packets_s2c, bytes_c2s, bytes_s2c,
    payload_bytes_c2s, payload_bytes_s2c, gaps, retransmissions, protocol, app, app_kind, method, server_name, encrypted FROM flows ORDER BY ALL`;
  const ACCOUNTS = `SELECT app, account, display_name, client_ip, server, login, auth, side FROM accounts ORDER BY ALL`;
  const MESSAGES = `SELECT m.app, md5(coalesce(m.sender, '')) s, md5(coalesce(m.recipient, '')) r, md5(coalesce(m.body, '')) b, m.body_format, m.direction, m.kind,
    f.client_port, f.server_port FROM messages m JOIN flows f USING (capture_id, flow_id) ORDER BY ALL`;

  t.test('live capture of three replayed captures = ingest of the same files; readers succeed meanwhile', async (t) => {
    const pair = makeVethPair('c');
    t.teardown(() => pair.remove());
    const db = path.join(tmp, 'live.duckdb');
    const ref = path.join(tmp, 'ingest.duckdb');
    const pcaps = path.join(tmp, 'pcaps');
    const live = await startLive(pair, db, ['--sensor', 'test-span', '--save-pcap', pcaps, '--rotate', '20kB', '--keep', '50']);
    replay(pair, [FILES[0]!], 200);
    await waitPackets(db, PACKETS[0]!);
    // Readers from other processes while live runs: a report and a query, each must succeed.
    const report = spawnSync(process.execPath, [bin, 'report', 'summary', '--db', db, '--format', 'json'], { encoding: 'utf8' });
    t.equal(report.status, 0, `report during the capture: ${report.stderr}`);
    t.equal(q(db, "SELECT status FROM captures")[0]?.status, 'partial', 'status partial while running');
    replay(pair, FILES.slice(1), 200);
    await waitPackets(db, PACKETS[0]! + PACKETS[1]! + PACKETS[2]!);
    live.child.kill('SIGTERM');
    t.equal(await live.exited, 0, `SIGTERM: exit 0 (${live.stderr()})`);

    const ing = spawnSync(process.execPath, [bin, 'ingest', '--db', ref, ...FILES], { encoding: 'utf8' });
    t.equal(ing.status, 0, ing.stderr);

    const cap = q(db, 'SELECT path, format, packets, status, sensor, error FROM captures')[0]!;
    t.same(cap, { path: `live:${pair.ifB}`, format: 'pcap', packets: 191, status: 'complete', sensor: 'test-span', error: null });
    const stats = q(db, 'SELECT count(*) AS n, max(packets) AS p, max(received) AS r, max(dropped_kernel) AS d FROM capture_stats')[0]!;
    t.ok(Number(stats.n) >= 3, `capture_stats: a row per flush (${stats.n})`);
    t.equal(Number(stats.p), 191);
    t.equal(Number(stats.d), 0, 'no drops reported by tcpdump (else the comparison below would not hold)');
    t.equal(Number(stats.r), 191, "tcpdump's received by filter = packets replayed");

    const lf = q(db, FLOWS);
    t.ok(lf.length >= 3, `${lf.length} flows`);
    t.same(lf, q(ref, FLOWS), 'flows: same endpoints, counters and verdicts as ingest');
    const la = q(db, ACCOUNTS);
    t.ok(la.length >= 3, `${la.length} accounts`);
    t.same(la, q(ref, ACCOUNTS), 'accounts as ingest');
    const lm = q(db, MESSAGES);
    t.ok(lm.length >= 10, `${lm.length} messages`);
    t.same(lm, q(ref, MESSAGES), 'messages as ingest (bodies compared by hash)');
    t.same(q(db, 'SELECT app, count(*) AS n FROM flows WHERE app IS NOT NULL GROUP BY app ORDER BY app'), q(ref, 'SELECT app, count(*) AS n FROM flows WHERE app IS NOT NULL GROUP BY app ORDER BY app'));

    // The saved pcaps: several files (20 kB rotation), each a capture by itself, together every packet.
    const files = fs.readdirSync(pcaps).sort();
    t.ok(files.length >= 2, `${files.length} rotated files`);
    t.ok(files.every((f) => /^imtap-test-span-\d{8}T\d{6}Z-\d{4}\.pcap$/.test(f)), files.join(' '));
    let total = 0;
    for (const f of files) {
      const r = spawnSync('capinfos', ['-T', '-r', '-c', path.join(pcaps, f)], { encoding: 'utf8' });
      t.equal(r.status, 0, `capinfos reads ${f}`);
      total += Number(r.stdout.trim().split('\t')[1]);
    }
    t.equal(total, 191, 'the rotated files hold every packet');
  });

  t.test('SIGKILL loses nothing already flushed; SIGTERM mid-replay flushes and exits 0; --keep prunes', async (t) => {
    const pair = makeVethPair('k');
    t.teardown(() => pair.remove());
    const db = path.join(tmp, 'kill.duckdb');
    const pcaps = path.join(tmp, 'kept');
    const live = await startLive(pair, db, ['--save-pcap', pcaps, '--rotate', '4kB', '--keep', '2']);
    replay(pair, [FILES[0]!], 200);
    await waitPackets(db, PACKETS[0]!);
    const before = q(db, 'SELECT (SELECT count(*) FROM messages) AS m, (SELECT count(*) FROM accounts) AS a')[0]!;
    t.ok(Number(before.m) > 0, 'messages flushed while the IRC flow is still open');
    live.child.kill('SIGKILL');
    await live.exited;
    const after = q(db, 'SELECT (SELECT count(*) FROM messages) AS m, (SELECT count(*) FROM accounts) AS a')[0]!;
    t.same(after, before, 'after SIGKILL the flushed rows are all there');
    t.equal(q(db, 'SELECT status FROM captures')[0]?.status, 'partial', 'a killed session stays partial');
    t.ok(fs.readdirSync(pcaps).length <= 2, '--keep 2: at most two files');

    // A second session into the same file: SIGTERM in the middle of a slow replay.
    pair.remove();
    const pair2 = makeVethPair('t');
    t.teardown(() => pair2.remove());
    const live2 = await startLive(pair2, db);
    const slow = spawn('ip', ['netns', 'exec', pair2.nsA, 'tcpreplay', '-q', '--pps', '25', '-i', pair2.ifA, FILES[1]!], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1200));
    live2.child.kill('SIGTERM');
    t.equal(await live2.exited, 0, `SIGTERM mid-replay: exit 0 (${live2.stderr()})`);
    slow.kill('SIGKILL');
    const caps = q(db, 'SELECT capture_id, status, packets FROM captures ORDER BY capture_id');
    t.equal(caps.length, 2);
    t.equal(caps[1]!.status, 'complete');
    const got = Number(caps[1]!.packets);
    t.ok(got > 0 && got < PACKETS[1]!, `part of the replay captured (${got} packets)`);
    t.equal(Number(q(db, 'SELECT sum(packets_c2s + packets_s2c) AS p FROM flows WHERE capture_id = 2')[0]!.p), got, 'every captured packet is in a flow written at shutdown');
  });

  t.test('errors: unknown interface, no permission, no tcpdump', async (t) => {
    const pair = makeVethPair('e');
    t.teardown(() => pair.remove());
    // nobody must reach the database's directory: not under the test's 0700 temporary directory.
    const dir = fs.mkdtempSync('/tmp/imtap-live-nobody-');
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.chmodSync(dir, 0o777);
    const db = path.join(dir, 'e.duckdb');
    // A plain environment: tap's NODE_OPTIONS would make the child write tap's process files as nobody.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
    const run = (argv: string[], e: NodeJS.ProcessEnv = env) =>
      new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const c = spawn(argv[0]!, argv.slice(1), { env: e, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        c.stderr.setEncoding('utf8').on('data', (x: string) => (stderr += x));
        c.on('exit', (status) => resolve({ status, stderr }));
      });
    const db2 = path.join(dir, 'nobody.duckdb');
    const empty = path.join(dir, 'emptybin');
    fs.mkdirSync(empty);
    const [nosuch, nobody, missing] = await Promise.all([
      run(pair.cmd(pair.nsB, [process.execPath, bin, 'live', '-i', 'nosuch0', '--db', db])),
      // env -u: tap's process tracking injects NODE_OPTIONS into children, which nobody could not act on.
      run(pair.cmd(pair.nsB, ['env', '-u', 'NODE_OPTIONS', 'setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, bin, 'live', '-i', pair.ifB, '--db', db2])),
      run([process.execPath, bin, 'live', '-i', pair.ifB, '--db', path.join(dir, 'none.duckdb')], { ...env, PATH: empty }),
    ]);
    t.equal(nosuch.status, EXIT.NO_INTERFACE, nosuch.stderr);
    t.match(nosuch.stderr, /^imtap: there is no network interface nosuch0 here: list them with "ip link"/m);

    t.equal(nobody.status, EXIT.NO_CAPTURE_PERMISSION, nobody.stderr);
    t.match(nobody.stderr, /tcpdump may not capture on .*: give it the capture privilege once with "setcap cap_net_raw,cap_net_admin=eip \/.*tcpdump" \(as root\), or run imtap live as root/);

    t.equal(missing.status, EXIT.NO_CAPTURE_TOOL, missing.stderr);
    t.match(missing.stderr, /tcpdump is not installed \(or not on PATH\): install it with "apt-get install tcpdump"/);

    // None of the failed starts left a capture row behind.
    t.equal(q(db, 'SELECT count(*) AS n FROM captures')[0]?.n, 0);
    t.equal(q(db2, 'SELECT count(*) AS n FROM captures')[0]?.n, 0);
    t.notOk(fs.existsSync(path.join(dir, 'none.duckdb')), 'a missing tcpdump is said before the database is created');
  });
}

/**
 * `imtap ingest --rules FILE` end to end: a bad rule file stops the run before the database is touched (exit code 1,
 * one line naming file and line); a user rule names an app for a flow of a real capture that no built-in rule names
 * (by SNI when the TLS analyzer is registered; by address range in any case). The flow's server name and address come
 * from tshark's dissection of the same capture, not from imtap.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { PROTOCOLS } from '../../src/decoders/im/protocols.js';
import { imtap } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const sites = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'pcaps', 'apps', 'sites.pcapng');
const dir = tempDir('rules-cli');
const SNI = 'kerve.last.fm';

/** The server address and port of the TLS ClientHello for `sni`, as tshark reads it. */
function tsharkServer(sni: string): { ip: string; port: number } {
  const out = execFileSync('tshark', ['-r', sites, '-Y', `tls.handshake.extensions_server_name == "${sni}"`, '-T', 'fields', '-e', 'ip.dst', '-e', 'tcp.dstport'], { encoding: 'utf8' });
  const [ip, port] = out.trim().split('\n')[0]!.split('\t') as [string, string];
  return { ip, port: Number(port) };
}

async function flowsOf(db: string, ip: string): Promise<Record<string, unknown>[]> {
  const q = await imtap(['query', '--db', db, '--format', 'json', `SELECT protocol, app, app_kind, method, confidence, server_name, server_port FROM flows WHERE server_ip = '${ip}' ORDER BY flow_id`]);
  if (q.code !== 0) throw new Error(q.stderr);
  return JSON.parse(q.stdout) as Record<string, unknown>[];
}

t.test('a bad rule file: exit 1, one line with file and line, no database created', async (t) => {
  const bad = path.join(dir, 'bad.rules');
  fs.writeFileSync(bad, '# mine\nhost chat.example.org myapp voice 0.9\n');
  const good = path.join(dir, 'good.rules');
  fs.writeFileSync(good, 'host chat.example.org myapp chat 0.9\n');
  const db = path.join(dir, 'never.duckdb');
  const r = await imtap(['ingest', '--db', db, '--rules', good, '--rules', bad, sites]);
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, `imtap: ${bad}:2: unknown kind "voice" (chat, call, file, web, presence, control)\n`);
  t.notOk(fs.existsSync(db), 'the database was not touched');
  const missing = await imtap(['ingest', '--db', db, '--rules', path.join(dir, 'nope.rules'), sites]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^imtap: .*nope\.rules: cannot read the rule file \(ENOENT\)\n$/);
  t.notOk(fs.existsSync(db));
});

t.test('a user range rule names the flow to that address (method ip)', async (t) => {
  const { ip, port } = tsharkServer(SNI);
  t.equal(port, 443);
  const rules = path.join(dir, 'range.rules');
  fs.writeFileSync(rules, `# source: this test\nip ${ip} lastfm-range chat 0.4\n`);
  const db = path.join(dir, 'range.duckdb');
  const r = await imtap(['ingest', '--db', db, '--rules', rules, sites]);
  t.equal(r.code, 0, r.stderr);
  const flows = await flowsOf(db, ip);
  t.ok(flows.length >= 1, `${flows.length} flows to ${ip}`);
  const named = flows.filter((f) => f.app === 'lastfm-range');
  t.ok(named.length >= 1, 'the range names the flow');
  for (const f of named) t.match(f, { app_kind: 'chat', method: 'ip', confidence: 0.4 });
  // Without the user file, no built-in rule names that address.
  const db2 = path.join(dir, 'plain.duckdb');
  t.equal((await imtap(['ingest', '--db', db2, sites])).code, 0);
  t.ok((await flowsOf(db2, ip)).every((f) => f.app === null), 'no app without --rules');
});

const tls = PROTOCOLS.some((p) => p.id === 'tls');
t.test('a user host rule names a TLS flow by its SNI (method sni)', async (t) => {
  t.ok(tls, 'the TLS analyzer is registered (src/decoders/apps/index.ts)');
  const { ip } = tsharkServer(SNI);
  const rules = path.join(dir, 'host.rules');
  fs.writeFileSync(rules, `host ${SNI} lastfm-chat chat 0.9\n`);
  const db = path.join(dir, 'host.duckdb');
  const r = await imtap(['ingest', '--db', db, '--rules', rules, sites]);
  t.equal(r.code, 0, r.stderr);
  const flows = (await flowsOf(db, ip)).filter((f) => f.server_name === SNI);
  t.ok(flows.length >= 1, `flows with server_name ${SNI}`);
  for (const f of flows) t.match(f, { protocol: 'tls', app: 'lastfm-chat', app_kind: 'chat', method: 'sni', confidence: 0.9 });
});

/**
 * A real TLS handshake: a node:tls server on loopback with a self-signed certificate made by openssl at test time,
 * captured by tcpdump started here, one connection with TLS 1.3 and one capped at TLS 1.2 (certificate in clear). The
 * rows read from the capture must show what the client and server were given, and agree with tshark's dissection.
 */
import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tlsNode from 'node:tls';
import type { AddressInfo } from 'node:net';
import { analyzeCapture } from '../../src/decoders/im/analyze.js';
import { run } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'imtap-tls-'));
if (!process.env.KEEP) t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function canCapture(): boolean {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

async function connect(port: number, opts: tlsNode.ConnectionOptions): Promise<{ alpn: string | false; version: string | null }> {
  return new Promise((resolve, reject) => {
    const s = tlsNode.connect({ host: '127.0.0.1', port, servername: 'chat.example.test', ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false, ...opts }, () => {
      const r = { alpn: s.alpnProtocol ?? false, version: s.getProtocol() };
      s.end('hello');
      s.on('close', () => resolve(r));
    });
    s.on('error', reject);
    s.on('data', () => {});
  });
}

t.test('node:tls handshakes captured by tcpdump', async (t) => {
  if (!canCapture()) {
    // A clear failure, not a skip: CI runs as root with tcpdump installed.
    t.fail('this test captures with tcpdump on loopback: it needs root and tcpdump (apt-get install -y tcpdump)');
    return;
  }
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/O=Imtap Test/CN=chat.example.test', '-addext', 'subjectAltName=DNS:chat.example.test,DNS:files.example.test'], { stdio: 'ignore' });
  const server = tlsNode.createServer({ key: readFileSync(key), cert: readFileSync(cert), ALPNProtocols: ['http/1.1'] }, (sock) => {
    sock.on('data', () => sock.end('bye'));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const pcap = join(dir, 'tls.pcap');
  const dump = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-U', '-n', '-s', '0', '-w', pcap, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tcpdump did not start listening')), 10_000);
    dump.stderr.on('data', (d: Buffer) => {
      if (d.toString().includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    dump.on('error', reject);
  });
  // tcpdump says "listening" a moment before its capture sees packets.
  await new Promise((r) => setTimeout(r, 1000));
  const c13 = await connect(port, {});
  const c12 = await connect(port, { maxVersion: 'TLSv1.2' });
  await new Promise((r) => setTimeout(r, 500));
  let stats = '';
  dump.stderr.on('data', (d: Buffer) => (stats += d.toString()));
  const exited = new Promise((r) => dump.on('exit', r));
  dump.kill('SIGINT');
  await exited;
  t.comment(stats.trim());
  await new Promise<void>((r) => server.close(() => r()));
  t.equal(c13.version, 'TLSv1.3');
  t.equal(c12.version, 'TLSv1.2');

  const r = await analyzeCapture(pcap);
  const rows = r.rows.tls ?? [];
  t.equal(rows.length, 2, 'one tls row per connection');
  const [r13, r12] = rows.sort((a, b) => (a.flow_id as number) - (b.flow_id as number));
  t.match(r13, { transport: 'tls', sni: 'chat.example.test', ech: false, alpn: 'h2,http/1.1', server_version: '1.3', cert_subject: null, cert_names: null });
  t.match(r13!.versions as string, /^1\.3,1\.2/);
  t.match(r12, { sni: 'chat.example.test', alpn: 'h2,http/1.1', versions: '1.2', server_version: '1.2', cert_subject: 'chat.example.test', cert_names: 'chat.example.test,files.example.test', cert_issuer: 'CN=chat.example.test, O=Imtap Test' });
  for (const v of r.others.filter((o) => o.protocol === 'tls')) {
    t.equal(v.encrypted, true);
    t.equal(v.serverName, 'chat.example.test');
  }
  t.equal(r.others.filter((o) => o.protocol === 'tls').length, 2);

  // The same capture through tshark: the cipher suites it says the servers chose, the SAN names of the certificate.
  const sh = run('tshark', ['-n', '-r', pcap, '-d', `tcp.port==${port},tls`, '-Y', 'tls.handshake.type == 2', '-T', 'fields', '-e', 'tls.handshake.ciphersuite'])
    .split('\n')
    .filter((l) => l.length > 0)
    .map((c) => `0x${Number(c).toString(16).padStart(4, '0')}`);
  t.same([r13!.cipher, r12!.cipher], sh, 'ciphers as tshark');
  const names = run('tshark', ['-n', '-r', pcap, '-d', `tcp.port==${port},tls`, '-Y', 'tls.handshake.type == 11', '-T', 'fields', '-e', 'x509ce.dNSName']).trim();
  t.equal(names, 'chat.example.test,files.example.test', 'SAN as tshark');
  // And the JA4 of node's own ClientHello is well formed, with the counts tshark sees.
  const ch = run('tshark', ['-n', '-r', pcap, '-d', `tcp.port==${port},tls`, '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tls.handshake.cipher_suites_length', '-e', 'tls.handshake.extension.type']).trim().split('\n');
  for (const [i, line] of ch.entries()) {
    const [csLen, exts] = line.split('\t');
    const ja4 = [r13, r12][i]!.ja4 as string;
    t.equal(ja4.slice(4, 6), String(Number(csLen) / 2).padStart(2, '0'), 'cipher count');
    t.equal(ja4.slice(6, 8), String(exts!.split(',').length).padStart(2, '0'), 'extension count');
  }
});

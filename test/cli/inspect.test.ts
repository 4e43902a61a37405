// imtap inspect, end to end: protocol counts against tshark on every real capture, JSON and text output, exit
// codes, standard input through the built binary, and hostile file names.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { imtap } from '../helpers/cli.js';
import { buildInspectReport, type InspectReport } from '../../src/cli/inspect.js';
import { allCaptures, fixture, rel, ROOT } from '../helpers/fixtures.js';
import { capinfos, run } from '../helpers/tools.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-cli-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));


/** Innermost network and transport protocol of each packet, from tshark's frame.protocols. */
function tsharkCounts(file: string) {
  const net: Record<string, number> = { ipv4: 0, ipv6: 0, arp: 0 };
  const tr: Record<string, number> = { tcp: 0, udp: 0, icmp: 0, icmpv6: 0 };
  for (const line of run('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.protocols']).split('\n')) {
    if (!line) continue;
    const p = line.split(':').filter((x) => !x.startsWith('ipv6.'));
    if (p.includes('arp')) net.arp!++;
    let i = p.findIndex((x) => x === 'ip' || x === 'ipv6');
    if (i < 0) continue;
    // GTP-U: count the tunnelled packet, as imtap decodes it.
    const g = p.indexOf('gtp');
    if (g > i && (p[g + 1] === 'ip' || p[g + 1] === 'ipv6')) i = g + 1;
    net[p[i] === 'ip' ? 'ipv4' : 'ipv6']!++;
    const l4 = p[i + 1];
    if (l4 && l4 in tr) tr[l4]!++;
  }
  return { net, tr };
}

t.test('packets per network and transport protocol equal tshark on every real capture', async (t) => {
  for (const file of allCaptures()) {
    const r = await buildInspectReport(file);
    const ts = tsharkCounts(file);
    t.same(
      { ipv4: r.network.ipv4, ipv6: r.network.ipv6, arp: r.network.arp, tcp: r.transport.tcp, udp: r.transport.udp, icmp: r.transport.icmp, icmpv6: r.transport.icmpv6 },
      { ...ts.net, ...ts.tr },
      rel(file),
    );
  }
});

t.test('--json: one object per capture, with capinfos numbers and full-precision times', async (t) => {
  const a = fixture('apps/stun_signal.pcapng');
  const b = fixture('msnp/msn-switchboard-chat-renamed.dmp');
  const res = await imtap(['inspect', '--json', a, b]);
  t.equal(res.code, 0);
  t.equal(res.stderr, '');
  const reports = JSON.parse(res.stdout) as InspectReport[];
  t.equal(reports.length, 2);
  const [ra, rb] = reports as [InspectReport, InspectReport];
  const ca = capinfos(a);
  t.equal(ra.format, 'pcapng');
  t.equal(ra.packets, ca.packets);
  t.equal(ra.wireBytes, ca.dataBytes);
  t.equal(ra.firstEpoch, ca.first);
  t.equal(ra.lastEpoch, ca.last);
  t.equal(ra.precision, 'nanoseconds');
  t.match(ra.first, /^2021-11-14T\d\d:\d\d:\d\d\.\d{9}Z$/);
  t.equal(ra.status, 'complete');
  t.equal(rb.format, 'pcap', 'sniffed by magic despite the .dmp name');
  t.same(rb.linktypes, [{ linktype: 1, name: 'EN10MB', description: 'Ethernet', packets: 50 }]);
});

t.test('text output names every field a person looks for', async (t) => {
  const res = await imtap(['inspect', fixture('sip/gprs-sip-gtpu.pcap')]);
  t.equal(res.code, 0);
  for (const label of ['File:', 'Format:', 'Link types:', 'Packets:', 'Bytes:', 'First packet:', 'Last packet:', 'Duration:', 'Network:', 'Transport:', 'Anomalies:', 'Status:']) {
    t.match(res.stdout, label);
  }
  t.match(res.stdout, /Encapsulation:\s+gtpu 22/);
  t.notMatch(res.stdout, /\x1b\[/, 'no colours when not on a terminal');
});

t.test('exit codes: 0 clean, 1 unreadable, 2 usage, 3 damaged (with the good packets still reported)', async (t) => {
  const whole = fs.readFileSync(fixture('irc/irc-privmsg.pcap'));
  const cut = path.join(tmp, 'cut.pcap');
  fs.writeFileSync(cut, whole.subarray(0, whole.length - 10));
  const damaged = await imtap(['inspect', '--json', cut]);
  t.equal(damaged.code, 3);
  const [r] = JSON.parse(damaged.stdout) as InspectReport[];
  t.equal(r!.packets, 47, 'all complete packets');
  t.equal(r!.status, 'partial');
  t.equal(r!.truncated, true);
  t.match(damaged.stderr, new RegExp(`pcap_truncated_record at byte ${r!.issues[0]!.offset}`));

  const missing = await imtap(['inspect', path.join(tmp, 'nope.pcap'), fixture('irc/irc-353.pcap')]);
  t.equal(missing.code, 1, 'an unreadable input outranks success');
  t.match(missing.stderr, /nope\.pcap: cannot open: no such file/);
  t.match(missing.stdout, /Packets:\s+12/, 'the readable capture is still reported');

  const text = path.join(tmp, 'notes.txt');
  fs.writeFileSync(text, 'hello\n');
  const notCap = await imtap(['inspect', text]);
  t.equal(notCap.code, 1);
  t.match(notCap.stderr, /not a pcap or pcapng capture/);

  t.equal((await imtap(['inspect'])).code, 2);
  t.equal((await imtap(['inspect', '--bogus', fixture('irc/irc-353.pcap')])).code, 2);
  t.equal((await imtap(['frobnicate'])).code, 2);
  t.equal((await imtap([])).code, 2);
  const help = await imtap(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /inspect <captures\.\.>/);
});

t.test('hostile file names are escaped for the terminal', async (t) => {
  const evil = path.join(tmp, 'evil\x1b[31mred\x07.pcap');
  fs.copyFileSync(fixture('irc/irc-353.pcap'), evil);
  const res = await imtap(['inspect', evil]);
  t.notMatch(res.stdout, /\x1b/);
  t.match(res.stdout, 'evil\\x1b[31mred\\x07.pcap');
});

t.test('the built binary reads standard input ("-"), plain and gzip, as tcpdump -w - | imtap inspect - would', async (t) => {
  const bin = path.join(ROOT, 'dist/bin/imtap.js');
  t.ok(fs.existsSync(bin), 'built by npm ci / npm test (prepare, pretest)');
  const file = fixture('apps/whatsapp_login_call.pcap');
  const bytes = fs.readFileSync(file);
  for (const input of [bytes, gzipSync(bytes)]) {
    const r = spawnSync(process.execPath, [bin, 'inspect', '--json', '-'], { input, encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    const [rep] = JSON.parse(r.stdout) as InspectReport[];
    t.equal(rep!.packets, 1253);
    t.equal(rep!.file, '-');
  }
  // A real pipe from a capture tool (installed by the pretest step): tcpdump -r … -w - stands in for a live tcpdump.
  const out = execFileSync('sh', ['-c', `tcpdump -r '${file}' -w - 2>/dev/null | '${process.execPath}' '${bin}' inspect --json -`], { encoding: 'utf8' });
  t.equal((JSON.parse(out) as InspectReport[])[0]!.packets, 1253);
});

t.test('--flows: one record per flow, JSON written straight from the flow equals the record', async (t) => {
  const { flowJson, flowRecord } = await import('../../src/flows/flow-record.js');
  const { inspectCapture } = await import('../../src/stats/capture-stats.js');
  for (const name of ['irc/irc-353.pcap', 'apps/discord_mid_flow.pcap', 'sip/gprs-sip-gtpu.pcap', 'oscar/icq-oscar-on-443.pcapng', 'apps/sites.pcapng']) {
    let n = 0;
    let same = 0;
    await inspectCapture(fixture(name), {}, {
      onFlow: (f) => {
        n++;
        if (JSON.stringify(JSON.parse(flowJson(f, 9))) === JSON.stringify(flowRecord(f, 9))) same++;
      },
    });
    t.equal(same, n, `${name}: ${n} flows`);
  }
  const res = await imtap(['inspect', '--flows', '--json', fixture('oscar/icq-oscar-on-443.pcapng')]);
  t.equal(res.code, 0);
  const [r] = JSON.parse(res.stdout) as (InspectReport & { flows: { client: string; serverPort: number; gaps: number[]; anomalies: Record<string, number>; orientation: string }[] })[];
  t.equal(r!.flows.length, 1);
  t.match(r!.flows[0], { client: '10.30.29.3', serverPort: 443, orientation: 'syn', gaps: [1, 1], anomalies: { tcp_content_gap: 2 } });
  t.match(r!.flowStats, { created: 1, ended: 1 });
  const text = await imtap(['inspect', '--flows', fixture('irc/irc-basic.pcap')]);
  t.match(text.stdout, /tcp\s+192\.168\.6\.110:49170 -> 130\.239\.18\.119:6667\s+syn\s+17\/17\s+1228\/5923/);
});

/**
 * Calls tied to the app that set them up, on the real SIP captures (fixtures/pcaps/sip): every UDP flow tshark
 * decodes as RTP or RTCP once the SDP it follows is known (`-o rtp.heuristic_rtp:TRUE`, an independent decoder), and
 * whose endpoint an SDP offer or answer announced (tshark's `sdp.connection_info.address` / `sdp.media.port`), is a
 * flow with app `sip`, kind `call`, method `expected`, protocol `rtp` (RTCP: `rtcp`); no other UDP flow of these
 * captures is named by the `rtp` analyzer.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { analyzeCapture } from '../../src/decoders/im/analyze.js';
import { allCaptures, PCAPS } from '../helpers/fixtures.js';

const SIP_CAPTURES = allCaptures().filter((f) => path.relative(PCAPS, f).startsWith(`sip${path.sep}`));

function tshark(file: string, args: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
}

/** The address:port pairs SDP bodies announce (media ports and, per RFC 3550 §11, the RTCP port above each). */
function announced(file: string): Set<string> {
  const out = new Set<string>();
  for (const [addr, ports] of tshark(file, ['-Y', 'sdp', '-T', 'fields', '-e', 'sdp.connection_info.address', '-e', 'sdp.media.port'])) {
    const a = (addr ?? '').split(',')[0]!;
    for (const p of (ports ?? '').split(',')) if (a !== '' && Number(p) > 0) out.add(`${a}:${p}`).add(`${a}:${Number(p) + 1}`);
  }
  return out;
}

/** The RTP and RTCP flows tshark sees, as sorted endpoint pairs, with the protocol name tshark gives. */
function tsharkMedia(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [src, sp, dst, dp, proto] of tshark(file, ['-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp or rtcp', '-T', 'fields', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', '_ws.col.Protocol'])) {
    out.set([`${src}:${sp}`, `${dst}:${dp}`].sort().join(' '), proto!.toLowerCase());
  }
  return out;
}

let total = 0;
for (const file of SIP_CAPTURES) {
  const name = path.relative(PCAPS, file);
  t.test(name, async (t) => {
    const ann = announced(file);
    const media = new Map([...tsharkMedia(file)].filter(([k]) => k.split(' ').some((e) => ann.has(e))));
    const r = await analyzeCapture(file);
    const got = new Map(r.flows.filter((f) => f.method === 'expected' && f.transport === 'udp').map((f) => [[`${f.client_ip}:${f.client_port}`, `${f.server_ip}:${f.server_port}`].sort().join(' '), f]));
    t.same([...got.keys()].sort(), [...media.keys()].sort(), 'the RTP/RTCP flows tshark sees after an SDP offer, no more, no fewer');
    for (const [key, proto] of media) {
      const f = got.get(key);
      if (f === undefined) continue;
      total++;
      t.match(f, { app: 'sip', kind: 'call', method: 'expected', protocol: proto }, `${key}: named for SIP as ${proto}`);
      t.ok(f.confidence !== null && f.confidence >= 0.9, `${key}: confidence ${f.confidence}`);
    }
  });
}

t.test('the captures hold media flows to check', async (t) => {
  t.ok(total >= 2, `${total} RTP/RTCP flows checked`);
});

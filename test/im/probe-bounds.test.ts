/**
 * The probe contract: a probe reads `data[off, off + len)` and nothing else. The dispatcher hands a probe views into
 * larger buffers (the reader's chunk for a flow's first packet, a reused probe buffer afterwards) whose other bytes
 * belong to other packets and other flows: a probe that looks past its view could answer from someone else's bytes.
 *
 * Every registered probe is asked about the first bytes of each direction of every flow in fixtures/pcaps, once as an
 * exact-size buffer and then inside larger buffers whose bytes around the view are zeros, 0xff, or copies of the
 * same bytes (so that a pattern the probe searches for is there just past the end, and just before the start).
 * The answer must never change. This fails, for example, for a search with indexOf over the whole buffer.
 */
import t from 'tap';
import { defaultRegistry } from '../../src/decoders/im/protocols.js';
import { Probe } from '../../src/decoders/im/types.js';
import type { Flow } from '../../src/flows/flow.js';
import type { FlowHandler } from '../../src/flows/flow-table.js';
import { inspectCapture } from '../../src/stats/capture-stats.js';
import { allCaptures, rel } from '../helpers/fixtures.js';

/** As much of each direction's first bytes as a probe would see at first (a packet's worth at most). */
const SAMPLE_MAX = 1500;

interface Sample {
  where: string;
  tcp: boolean;
  dir: 0 | 1;
  bytes: Uint8Array;
}

async function firstPayloads(file: string): Promise<Sample[]> {
  const out: Sample[] = [];
  const seen = new Set<string>();
  const keep = (f: Flow, dir: 0 | 1, buf: Uint8Array, off: number, len: number, tcp: boolean) => {
    const key = `${f.id}/${dir}`;
    if (seen.has(key) || len === 0) return;
    seen.add(key);
    out.push({ where: `${rel(file)} flow ${f.id} dir ${dir}`, tcp, dir, bytes: buf.slice(off, off + Math.min(len, SAMPLE_MAX)) });
  };
  const handler: FlowHandler = {
    streamSink: (f, dir) => ({
      onData: (data, offset, length) => {
        keep(f, dir, data, offset, length, true);
        return length;
      },
      onGap: () => {},
      onEnd: () => {},
    }),
    onDatagram: (f, dir, buf, off, len) => keep(f, dir, buf, off, len, false),
  };
  await inspectCapture(file, {}, { handler });
  return out;
}

type Fill = 'zeros' | 'ones' | 'copies' | 'foreign';

/** `bytes` at an offset inside a larger buffer; around it, `around` repeated (or zeros, or 0xff). */
function surround(bytes: Uint8Array, fill: Fill, around: Uint8Array): { buf: Uint8Array; off: number } {
  const pad = Math.max(64, bytes.length, around.length);
  const buf = new Uint8Array(pad + bytes.length + pad + 4096);
  if (fill === 'ones') buf.fill(0xff);
  if (fill === 'copies' || fill === 'foreign') {
    const rep = fill === 'copies' ? bytes : around;
    for (let at = 0; at < buf.length; at += rep.length) buf.set(rep.subarray(0, Math.min(rep.length, buf.length - at)), at);
    // The bytes just after the view are the start of `rep`, as the next packet in a reader's chunk would be.
    buf.set(rep.subarray(0, Math.min(rep.length, buf.length - pad - bytes.length)), pad + bytes.length);
  }
  buf.set(bytes, pad);
  return { buf, off: pad };
}

t.test('every probe answers from its view alone', async (t) => {
  const registry = defaultRegistry();
  const samples: Sample[] = [];
  for (const file of allCaptures()) samples.push(...(await firstPayloads(file)));
  t.ok(samples.length > 500, `first payloads of ${samples.length} flow directions`);
  const probesOf = (s: Sample) => (s.tcp ? registry.tcpProbes : registry.udpProbes);
  // Each probe's answers on the exact bytes, and for each probe the shortest sample it accepts: put around another
  // flow's bytes, it is what a probe that looks past its view would find.
  const want = new Map<string, Probe>();
  const accepted = new Map<string, Uint8Array>();
  for (const [i, s] of samples.entries()) {
    for (const p of probesOf(s)) {
      for (const midstream of [false, true]) {
        const r = p.probe!(s.bytes.slice(), 0, s.bytes.length, s.dir, midstream);
        want.set(`${i}/${p.id}/${midstream}`, r);
        if (r === Probe.Yes && !midstream && (accepted.get(p.id)?.length ?? Infinity) > s.bytes.length) accepted.set(p.id, s.bytes);
      }
    }
  }
  let calls = 0;
  const differences: string[] = [];
  for (const [i, s] of samples.entries()) {
    for (const p of probesOf(s)) {
      for (const midstream of [false, true]) {
        const w = want.get(`${i}/${p.id}/${midstream}`)!;
        for (const fill of ['zeros', 'ones', 'copies', 'foreign'] as const) {
          const around = accepted.get(p.id);
          if (fill === 'foreign' && around === undefined) continue;
          const { buf, off } = surround(s.bytes, fill, around ?? s.bytes);
          const got = p.probe!(buf, off, s.bytes.length, s.dir, midstream);
          calls++;
          if (got !== w && differences.length < 20) differences.push(`${p.id} on ${s.where}${midstream ? ' (midstream)' : ''}, ${fill} around: ${got} instead of ${w}`);
        }
      }
    }
  }
  t.same(differences, [], `${calls} probe calls inside larger buffers answered as on the exact bytes`);
  // The samples reach the probes' accepting paths, not only their first refusal.
  for (const id of ['irc', 'xmpp', 'msnp', 'oscar', 'ymsg', 'sip', 'tls', 'dns', 'quic', 'stun', 'imo', 'discord', 'whatsapp']) t.ok(accepted.has(id), `${id} accepted some sample`);
});

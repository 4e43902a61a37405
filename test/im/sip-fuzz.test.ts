/**
 * Hostile input for SIP and MSRP: the built conversations mutated (bytes flipped, inserted, deleted, cut off) with a
 * seeded generator (FUZZ_ROUNDS=n for more rounds). Oracle: no exception, only declared anomaly codes, and for TCP streams the same recording whether
 * fed whole, in 1-byte or in 7-byte pieces (times left out: the feeder gives each piece its own).
 */
import t from 'tap';
import { feed, recordingContext, type Recorded } from '../helpers/im-session.js';
import type { Conversation } from '../helpers/conversation-pcap.js';
import type { Dir, ImProtocol } from '../../src/decoders/im/types.js';
import { sip } from '../../src/decoders/im/sip/index.js';
import { msrp } from '../../src/decoders/im/msrp/index.js';
import { cpimUdp, messageTcp, messageUdp, registerUdp } from './builders/sip.js';
import { msrpSession } from './builders/msrp.js';

type Part = [Dir, Uint8Array];
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 150);

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const PIECES = ['\r\n', '\n', '\r\n\r\n', ':', ' ', '\0', 'Content-Length: 99999\r\n', 'l: 3\r\n', '-------', 'MSRP x SEND\r\n', 'SIP/2.0 200 OK\r\n', 'Byte-Range: 0-*/1\r\n', '$', '+', '#'];

function mutate(parts: Part[], r: () => number): Part[] {
  const out = parts.map(([d, b]) => [d, Buffer.from(b)] as [Dir, Buffer]);
  const n = 1 + Math.floor(r() * 6);
  for (let k = 0; k < n; k++) {
    const i = Math.floor(r() * out.length);
    const [d, b] = out[i]!;
    const at = Math.floor(r() * (b.length + 1));
    const op = r();
    let nb: Buffer;
    if (op < 0.3 && b.length > 0) {
      nb = Buffer.from(b);
      nb[Math.min(at, b.length - 1)] = Math.floor(r() * 256);
    } else if (op < 0.55) nb = Buffer.concat([b.subarray(0, at), Buffer.from(PIECES[Math.floor(r() * PIECES.length)]!, 'latin1'), b.subarray(at)]);
    else if (op < 0.75) nb = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(r() * 40)))]);
    else if (op < 0.85) nb = b.subarray(0, at);
    else nb = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(r() * 30) }, () => Math.floor(r() * 256))), b.subarray(at)]);
    out[i] = [d, nb];
  }
  return out;
}

const strip = (r: Recorded) => JSON.stringify({ ...r, files: [...r.files.entries()] }, (k, v: unknown) => (k === 'ts' ? undefined : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));

function run(proto: ImProtocol, parts: Part[], transport: 'tcp' | 'udp', chunk: number): Recorded {
  const { ctx, rec } = recordingContext({ transport });
  feed(proto.createSession(ctx), parts, chunk);
  return rec;
}

/** Failures (at most 3) of ROUNDS mutated rounds of `convs`. */
function check(proto: ImProtocol, name: string, convs: Conversation[], seed: number): string[] {
  const fails: string[] = [];
  const r = rng(seed);
    for (let round = 0; round < ROUNDS && fails.length < 3; round++) {
    for (const c of convs) {
      const transport = c.transport ?? 'tcp';
      const isProto = proto.id === 'msrp' ? transport === 'tcp' : true;
      if (!isProto) continue;
      const parts = mutate(c.parts.map(([d, p]) => [d, typeof p === 'string' ? Buffer.from(p) : p] as Part), r);
      let whole: Recorded;
      try {
        whole = run(proto, parts, transport, Infinity);
      } catch (e) {
        fails.push(`${name} round ${round}: threw ${String(e)}`);
        continue;
      }
      const bad = whole.anomalies.filter((a) => !(a.code in proto.anomalies));
      if (bad.length > 0) {
        fails.push(`${name} round ${round}: undeclared ${bad.map((a) => a.code).join(', ')}`);
      }
      if (transport === 'tcp') {
        for (const chunk of [1, 7]) {
          const cut = strip(run(proto, parts, transport, chunk));
          if (cut !== strip(whole)) {
            fails.push(`${name} round ${round}: ${chunk}-byte pieces differ: ${JSON.stringify(parts.map(([d, b]) => [d, Buffer.from(b).toString('latin1')]))}`);
          }
        }
      }
    }
  }
  return fails;
}

t.test('SIP over UDP', async (t) => t.same(check(sip, 'sip/udp', [...messageUdp(), ...cpimUdp(), ...registerUdp()], 1), []));
t.test('SIP over TCP', async (t) => t.same(check(sip, 'sip/tcp', messageTcp(), 2), []));
t.test('SIP INVITE with MSRP SDP', async (t) => t.same(check(sip, 'sip/invite', [msrpSession(true)[0]!], 3), []));
t.test('MSRP', async (t) => t.same(check(msrp, 'msrp', [msrpSession(true)[1]!], 4), []));
t.test('random bytes', async (t) => {
  const r = rng(9);
  for (let i = 0; i < 100; i++) {
    const junk = Buffer.from(Array.from({ length: Math.floor(r() * 3000) }, () => Math.floor(r() * 256)));
    for (const proto of [sip, msrp]) {
      for (const transport of proto === sip ? (['tcp', 'udp'] as const) : (['tcp'] as const)) {
        const rec = run(proto, [[0, junk], [1, junk.subarray(0, 100)]], transport, Infinity);
        const undeclared = rec.anomalies.filter((a) => !(a.code in proto.anomalies));
        if (undeclared.length > 0) t.fail(`${proto.id}: ${undeclared[0]!.code}`);
      }
    }
  }
  t.pass('no exception, declared codes only');
});

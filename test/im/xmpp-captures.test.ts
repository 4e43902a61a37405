// The real XMPP captures (zeek/zeek testing/btest/Traces/tls, see fixtures/pcaps/README.md): a client-to-server stream
// to jabber.ccc.de and a server-to-server dialback stream to 0xxon.net, both switching to TLS with STARTTLS. Their TCP
// payloads are extracted with tshark and fed to the session in packet order; Zeek's baselines
// (/work/shared/pcaps/zeek-baselines/scripts.base.protocols.xmpp.*) show the same flows as xmpp then ssl.
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Probe, type Dir, type Time } from '../../src/decoders/im/types.js';
import { xmpp } from '../../src/decoders/im/xmpp/index.js';
import { startSession } from '../helpers/im-session.js';
import { run } from '../helpers/tools.js';

const DIR = fileURLToPath(new URL('../../fixtures/pcaps/xmpp/', import.meta.url));

interface Segment {
  dir: Dir;
  ts: Time;
  bytes: Buffer;
}

/** The payload-carrying segments of TCP stream 0, in packet order, with the direction from the first SYN. */
function segments(file: string): { segs: Segment[]; clientPort: number; serverPort: number } {
  const out = run('tshark', ['-n', '-r', file, '-Y', 'tcp.stream == 0 && !tcp.analysis.retransmission', '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.flags.syn', '-e', 'tcp.flags.ack', '-e', 'tcp.payload']);
  const rows = out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
  const syn = rows.find((r) => (r[3] === '1' || r[3] === 'True') && (r[4] === '0' || r[4] === 'False')) ?? rows[0]!;
  const clientPort = Number(syn[1]);
  const serverPort = Number(syn[2]);
  const segs: Segment[] = [];
  for (const r of rows) {
    const hex = (r[5] ?? '').replace(/:/g, '');
    if (hex === '') continue;
    const [s, frac = ''] = r[0]!.split('.');
    segs.push({ dir: Number(r[1]) === clientPort ? 0 : 1, ts: [Number(s), Number(frac.padEnd(9, '0').slice(0, 9))], bytes: Buffer.from(hex, 'hex') });
  }
  return { segs, clientPort, serverPort };
}

/** Feed segments the way the dispatcher does (unconsumed bytes kept per direction); returns the recording. */
function replay(file: string) {
  const { segs, clientPort, serverPort } = segments(file);
  const { session, rec } = startSession(xmpp, { clientPort, serverPort });
  const carry: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  for (const s of segs) {
    const data = Buffer.concat([carry[s.dir], s.bytes]);
    const used = session.onData(s.dir, data, 0, data.length, s.ts);
    carry[s.dir] = data.subarray(used);
  }
  const last = segs[segs.length - 1]!.ts;
  session.onEnd(0, last);
  session.onEnd(1, last);
  session.finish(last);
  return { segs, rec };
}

t.test('c2s STARTTLS to jabber.ccc.de (client-dpd / starttls baselines)', async (t) => {
  const { segs, rec } = replay(`${DIR}tls_xmpp-starttls.pcap`);
  const first = segs.find((s) => s.dir === 0)!;
  t.equal(xmpp.probe!(first.bytes, 0, first.bytes.length, 0, false), Probe.Yes, 'probe: the client stream header');
  const srv = segs.find((s) => s.dir === 1)!;
  t.equal(xmpp.probe!(srv.bytes, 0, srv.bytes.length, 1, false), Probe.Yes, 'probe: the server stream header');
  t.equal(rec.confirmed, 1, 'confirmed on both stream headers');
  t.equal(rec.serverName, 'jabber.ccc.de');
  t.equal(rec.encrypted, 'starttls');
  t.equal(rec.rejected, null);
  t.same(rec.anomalies, [], 'no anomaly (TLS bytes are never parsed as XML)');
  t.same(rec.events, [], 'the starttls event is the dispatcher\'s (on ctx.encrypted)');
  t.same([rec.messages.length, rec.accounts.length, rec.transfers.length], [0, 0, 0], 'nothing readable before TLS');
});

t.test('s2s dialback STARTTLS to 0xxon.net (server-dialback-dpd baseline)', async (t) => {
  const { segs, rec } = replay(`${DIR}tls_xmpp-dialback-starttls.pcap`);
  const first = segs.find((s) => s.dir === 0)!;
  t.equal(xmpp.probe!(first.bytes, 0, first.bytes.length, 0, false), Probe.Yes);
  t.equal(rec.confirmed, 1);
  t.equal(rec.serverName, '0xxon.net');
  t.equal(rec.encrypted, 'starttls');
  t.same(rec.anomalies, []);
  // The receiving server named itself; the initiating one did not (no `from` on its header).
  t.same(rec.accounts.map((a) => [a.account, a.side ?? 0, a.auth ?? null]), [['0xxon.net', 1, null]]);
});

t.test('1-byte segments of the c2s capture give the same verdict', async (t) => {
  const { segs } = segments(`${DIR}tls_xmpp-starttls.pcap`);
  const { session, rec } = startSession(xmpp);
  const carry: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  for (const s of segs) {
    for (let i = 0; i < s.bytes.length; i++) {
      const data = Buffer.concat([carry[s.dir], s.bytes.subarray(i, i + 1)]);
      const used = session.onData(s.dir, data, 0, data.length, s.ts);
      carry[s.dir] = data.subarray(used);
    }
  }
  session.finish(segs[segs.length - 1]!.ts);
  t.same([rec.confirmed, rec.serverName, rec.encrypted, rec.anomalies.length], [1, 'jabber.ccc.de', 'starttls', 0]);
});

/**
 * The dispatcher's mechanics, with a toy line protocol defined here (so that what is tested is detection, replay,
 * held rows, rejection, carry-over, budgets and expectations, not a real protocol's parser):
 *   client "HELLO <name>\n" (the probe says Yes on "HELLO "), server "WELCOME\n" confirms, "MSG <text>\n" is a
 *   message, "BAD\n" rejects, "FILE <port> <size>\n" expects a data connection to the server's address.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Dispatcher, imVerdict, type ImRow, type Verdict } from '../../src/decoders/im/dispatch.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { Probe, type Dir, type FileSink, type ImProtocol, type SessionContext, type Time } from '../../src/decoders/im/types.js';
import { FlowTable } from '../../src/flows/flow-table.js';
import type { Flow } from '../../src/flows/flow.js';
import { connection, ip, prng, toPacket, type CutOptions, type Endpoints, type Seg } from '../helpers/synth.js';

const HELLO = Buffer.from('HELLO ');
const WELCOME = Buffer.from('WELCOME');

const toy: ImProtocol = {
  id: 'toy',
  name: 'Toy',
  transport: 'tcp',
  ports: [7777],
  // Either side can be recognised: the client by "HELLO ", the server by "WELCOME" (a probe that said No to the
  // server's first bytes would rule the protocol out for the flow).
  probe(data, off, len, dir) {
    const sig = dir === 0 ? HELLO : WELCOME;
    const n = Math.min(len, sig.length);
    for (let i = 0; i < n; i++) if (data[off + i] !== sig[i]) return Probe.No;
    return n < sig.length ? Probe.Need : Probe.Yes;
  },
  createSession(ctx: SessionContext) {
    let name: string | null = null;
    return {
      onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time) {
        let used = 0;
        for (;;) {
          const nl = data.subarray(off + used, off + len).indexOf(10);
          if (nl < 0) return used;
          const line = Buffer.from(data.subarray(off + used, off + used + nl)).toString('utf8');
          used += nl + 1;
          const [cmd, ...rest] = line.split(' ');
          if (cmd === 'HELLO') {
            name = rest.join(' ');
            ctx.account(ts, { account: name });
          } else if (cmd === 'WELCOME' && dir === 1) ctx.confirm(0.9);
          else if (cmd === 'MSG') ctx.message(ts, { sender: dir === 0 ? name : 'server', recipient: dir === 0 ? 'server' : name, body: rest.join(' '), dir });
          else if (cmd === 'BAD') {
            ctx.reject('BAD line');
            return used;
          } else if (cmd === 'FILE') ctx.expect(ts, { transport: 'tcp', host: ctx.serverIp, port: Number(rest[0]), ttl: 60, analyzer: 'toy-data', context: { size: Number(rest[1]), sender: name } });
          else ctx.anomaly(ts, 'toy_unknown_line', `line of ${line.length} bytes`);
        }
      },
      onGap() {},
      onEnd() {},
      finish() {},
    };
  },
  limits: {},
  anomalies: { toy_unknown_line: 'A line the toy protocol does not know.' },
};

const toyData: ImProtocol = {
  id: 'toy-data',
  name: 'Toy data',
  transport: 'tcp',
  ports: [],
  probe: null,
  createSession(ctx) {
    const meta = ctx.expected as { size: number; sender: string };
    ctx.setKind('file');
    ctx.confirm(1);
    let sink: FileSink | null = null;
    return {
      onData(dir, data, off, len, ts) {
        if (dir === 1) {
          sink ??= ctx.openFile(ts, { sender: meta.sender, recipient: null, filename: '../../etc/passwd\u0007', size: meta.size, method: 'toy' });
          sink.write(data, off, len);
        }
        return len;
      },
      onGap(_d, len) {
        sink?.gap(len);
      },
      onEnd() {},
      finish(ts) {
        sink?.close(ts);
      },
    };
  },
  limits: {},
  anomalies: {},
};

interface Run {
  rows: Record<string, ImRow[]>;
  verdicts: Map<number, Verdict | null>;
  dispatcher: Dispatcher;
}

const E: Endpoints = { client: ip('10.0.0.1'), cport: 40000, server: ip('10.0.0.2'), sport: 7777 };

/** Feed segments of one or more connections to a flow table with the dispatcher; returns the rows and verdicts. */
function run(conns: { e: Endpoints; segs: Seg[] }[], opts: { extractDir?: string; limits?: Partial<Dispatcher['limits']> } = {}): Run {
  const rows: Record<string, ImRow[]> = {};
  const verdicts = new Map<number, Verdict | null>();
  const d = new Dispatcher(new Registry([toy, toyData]), {
    output: { row: (tb, r) => (rows[tb] ??= []).push(r) },
    onFlowEnd: (f: Flow) => verdicts.set(f.id, imVerdict(f) && { ...imVerdict(f)! }),
    extract: { dir: opts.extractDir ?? null, prefix: 'c9' },
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  const table = new FlowTable(d);
  d.attach(table);
  let ts = 1_700_000_000;
  for (const { e, segs } of conns) {
    for (const s of segs) {
      const [p, rec] = toPacket(e, s, ts++, 0);
      table.packet(p, rec);
    }
  }
  table.finish();
  return { rows, verdicts, dispatcher: d };
}

const enc = (s: string) => Buffer.from(s, 'utf8');
const inOrder: CutOptions = { sizes: { max: 1000 } };

t.test('a confirmed session: rows held until the server confirms, then all written; verdict from payload', async (t) => {
  const r = run([{ e: E, segs: connection([enc('HELLO alice\nMSG hi there\nMSG second\n'), enc('WELCOME\nMSG back\n')], [100, 900], inOrder, prng(1)) }]);
  t.same(r.verdicts.get(1), { protocol: 'toy', app: 'toy', kind: 'chat', method: 'payload', confidence: 0.9, serverName: null, encrypted: false });
  t.same(
    r.rows.messages!.map((m) => [m.sender, m.body, m.direction]).sort(),
    [
      ['alice', 'hi there', 'c2s'],
      ['alice', 'second', 'c2s'],
      ['server', 'back', 's2c'],
    ].sort(),
  );
  t.equal(r.rows.accounts!.length, 1);
  t.match(r.rows.accounts![0], { account: 'alice', client_ip: '10.0.0.1', side: 'client', flow_id: 1, app: 'toy' });
});

t.test('the same conversation in 1-byte segments, shuffled, duplicated and overlapping gives the same rows', async (t) => {
  const streams: [Buffer, Buffer] = [enc('HELLO bob\nMSG one\nMSG two two\n'), enc('WELCOME\nMSG three\n')];
  const strip = (x: Run) => ({ m: x.rows.messages!.map((m) => `${m.direction} ${m.body}`).sort(), a: x.rows.accounts!.map((a) => a.account), v: x.verdicts.get(1) });
  const base = strip(run([{ e: E, segs: connection(streams, [5, 7], inOrder, prng(2)) }]));
  for (let seed = 1; seed <= 20; seed++) {
    const segs = connection(streams, [0xfffffff0, 0x7ffffff0], { sizes: seed % 2 ? 'one' : { max: 3 }, window: 6, duplicates: 0.1, overlaps: 0.1 }, prng(seed));
    t.same(strip(run([{ e: E, segs }])), base, `seed ${seed}`);
  }
});

t.test('a session rejected before confirmation leaves no rows and no verdict', async (t) => {
  const r = run([{ e: E, segs: connection([enc('HELLO mallory\nMSG x\nBAD\nMSG y\n'), enc('WELCOMES\n')], [1, 2], inOrder, prng(3)) }]);
  t.equal(r.verdicts.get(1), null);
  t.same(r.rows, {});
  t.equal(r.dispatcher.stats.rejected, 1);
});

t.test('never confirmed: accepted at the end with 0.5 (both sides) or 0.6 (one side seen)', async (t) => {
  const both = run([{ e: E, segs: connection([enc('HELLO carol\nMSG a\n'), enc('WELCOME?\n')], [1, 2], inOrder, prng(4)) }]);
  t.equal(both.verdicts.get(1)?.confidence, 0.5);
  t.equal(both.rows.messages!.length, 1);
  t.equal(both.rows.anomalies![0]!.code, 'toy_unknown_line');
  // Only the client's packets (a SPAN port seeing one direction).
  const segs = connection([enc('HELLO dave\nMSG only\n'), enc('WELCOME\n')], [1, 2], inOrder, prng(5)).filter((s) => s.dir === 0);
  const one = run([{ e: E, segs }]);
  t.equal(one.verdicts.get(1)?.confidence, 0.6);
  t.equal(one.rows.messages![0]!.body, 'only');
});

t.test('not the protocol: probes say no, or the detection budget runs out', async (t) => {
  const http = run([{ e: E, segs: connection([enc('GET / HTTP/1.1\r\n\r\n'), enc('HTTP/1.1 200 OK\r\n\r\n')], [1, 2], inOrder, prng(6)) }]);
  t.equal(http.verdicts.get(1), null);
  t.equal(http.dispatcher.stats.gaveUp, 1);
  // "HELL" in 1-byte pieces past a 3-byte budget: Need every time, then given up.
  const slow = connection([enc('HELL'), enc('')], [1, 2], { sizes: 'one' }, prng(7));
  const r = run([{ e: E, segs: slow }], { limits: { detectBytes: 3 } });
  t.equal(r.verdicts.get(1), null);
  t.equal(r.dispatcher.stats.gaveUp, 1);
});

t.test('an expected connection goes to the named analyzer; the carved file is hashed and safely named', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-dispatch-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = Buffer.alloc(50_000);
  for (let i = 0; i < file.length; i++) file[i] = (i * 7 + (i >> 8)) & 255;
  const control = connection([enc('HELLO erin\nFILE 5000 50000\n'), enc('WELCOME\n')], [1, 2], inOrder, prng(8));
  // The data connection: the toy receiver connects to port 5000 of the server's address; the server side sends the file.
  const dataEp: Endpoints = { client: E.client, cport: 40001, server: E.server, sport: 5000 };
  const data = connection([new Uint8Array(0), file], [10, 20], { sizes: { max: 1460 }, window: 4 }, prng(9));
  const r = run([{ e: E, segs: control }, { e: dataEp, segs: data }], { extractDir: dir });
  const v = r.verdicts.get(2)!;
  t.match(v, { protocol: 'toy-data', kind: 'file', method: 'expected', confidence: 1 });
  const tr = r.rows.transfers![0]!;
  t.match(tr, { sender: 'erin', size: 50000, bytes_seen: 50000, complete: true, method: 'toy', flow_id: 2 });
  t.equal(tr.sha256, createHash('sha256').update(file).digest('hex'));
  t.equal(tr.md5, createHash('md5').update(file).digest('hex'));
  t.equal(path.dirname(tr.path as string), dir, 'written inside the extraction directory');
  t.equal(path.basename(tr.path as string), 'c9-f2-passwd_');
  t.same(fs.readFileSync(tr.path as string), file);
});

t.test('a file with a hole is recorded as incomplete, without hashes', async (t) => {
  const file = Buffer.alloc(10_000, 1);
  const control = connection([enc('HELLO frank\nFILE 5001 10000\n'), enc('WELCOME\n')], [1, 2], inOrder, prng(10));
  const dataEp: Endpoints = { client: E.client, cport: 40002, server: E.server, sport: 5001 };
  const data = connection([new Uint8Array(0), file], [10, 20], { sizes: { max: 1000 } }, prng(11)).filter((s, i) => !(s.dir === 1 && s.data.length > 0 && i === 5));
  const r = run([{ e: E, segs: control }, { e: dataEp, segs: data }]);
  t.match(r.rows.transfers![0], { complete: false, md5: null, sha256: null, path: null });
  t.ok((r.rows.transfers![0]!.bytes_seen as number) < 10_000);
});

t.test('a session that never consumes is bounded by maxPendingBytes', async (t) => {
  // One endless line from the client: the toy session waits for a newline that never comes.
  const long = Buffer.alloc(5000, 0x61);
  const segs = connection([Buffer.concat([enc('HELLO '), long]), enc('WELCOME\n')], [1, 2], { sizes: { max: 500 } }, prng(12));
  const r = run([{ e: E, segs }], { limits: { maxPendingBytes: 1000 } });
  t.ok(r.rows.anomalies?.some((a) => a.code === 'im_pending_limit'), 'the dispatcher says it dropped bytes');
});

t.test('the registry refuses bad descriptors, naming them', async (t) => {
  t.throws(() => new Registry([toy, toy]), /protocol id toy is declared twice/);
  t.throws(() => new Registry([{ ...toy, anomalies: { other_code: 'x' } }]), /anomaly code other_code must be snake_case starting with toy_/);
  t.throws(() => new Registry([{ ...toy, id: 'Toy' }]), /must be lower-case/);
  t.throws(() => new Registry([{ ...toy, limits: { maxLine: 0 } }]), /limit maxLine = 0 must be a positive number/);
});


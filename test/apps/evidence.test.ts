/**
 * How the dispatcher turns evidence into a flow's verdict (src/decoders/im/dispatch.ts): carrier protocols with no
 * app of their own, host names matched against rules, site rules, identify() precedence, names inherited from DNS
 * answers, IP ranges as the last resort, and the protocol every flow gets (unknown, none). A toy carrier protocol and
 * toy rules defined here keep the test about those mechanics, not about TLS or the built-in rule data.
 *   client lines: "NAME <host>" (hostName, source sni), "ID <app> <confidence>" (identify, kind call, method stun),
 *   "RES <name> <address> <ttl>" (resolved), "ROW" (a tls row); the server's "OK" confirms.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { Dispatcher, flowVerdict, imVerdict, type ImRow, type Verdict } from '../../src/decoders/im/dispatch.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { Probe, type Dir, type ImProtocol, type SessionContext, type Time } from '../../src/decoders/im/types.js';
import type { AppRules } from '../../src/decoders/apps/rules.js';
import { DnsCache } from '../../src/decoders/apps/dns-cache.js';
import { FlowTable } from '../../src/flows/flow-table.js';
import type { Flow } from '../../src/flows/flow.js';
import { connection, ip, prng, toPacket, type Endpoints, type Seg } from '../helpers/synth.js';

const sig = Buffer.from('TOY ');
const carrier: ImProtocol = {
  id: 'toycar',
  name: 'Toy carrier',
  transport: 'tcp',
  app: null,
  tables: ['tls'],
  ports: [],
  // The server side cannot tell (Need), so the order the two sides' first packets come in does not matter.
  probe(data, off, len, dir) {
    if (dir === 1) return Probe.Need;
    const n = Math.min(len, sig.length);
    for (let i = 0; i < n; i++) if (data[off + i] !== sig[i]) return Probe.No;
    return n < sig.length ? Probe.Need : Probe.Yes;
  },
  createSession(ctx: SessionContext) {
    return {
      onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time) {
        let used = 0;
        for (;;) {
          const nl = data.subarray(off + used, off + len).indexOf(10);
          if (nl < 0) return used;
          const [cmd, ...a] = Buffer.from(data.subarray(off + used, off + used + nl)).toString('latin1').split(' ');
          used += nl + 1;
          if (dir === 1 && cmd === 'OK') ctx.confirm(0.9);
          else if (cmd === 'NAME') ctx.hostName(a[0]!, 'sni', ts);
          else if (cmd === 'ID') ctx.identify(a[0] === '-' ? null : a[0]!, 'call', 'stun', Number(a[1]));
          else if (cmd === 'RES') ctx.resolved(ts, a[0]!, a[1]!, Number(a[2]));
          else if (cmd === 'ROW') ctx.row('tls', { ts, transport: 'tls', sni: 'x', ech: false });
          else if (cmd === 'BADROW') ctx.row('messages', { ts });
        }
      },
      onGap() {},
      onEnd() {},
      finish() {},
    };
  },
  limits: {},
  anomalies: {},
};

// An IM protocol naming its own app, to check that weaker evidence does not replace it.
const im: ImProtocol = {
  ...carrier,
  id: 'toyim',
  app: undefined,
  tables: [],
  probe(data, off, len, dir) {
    if (dir === 1) return Probe.Need;
    return len >= 3 && data[off] === 0x49 && data[off + 1] === 0x4d && data[off + 2] === 0x20 ? Probe.Yes : len < 3 ? Probe.Need : Probe.No;
  },
};

const rules: AppRules = {
  matchHost(name) {
    if (name === 'www.app.test') return { app: null, kind: 'web', confidence: 0.9, rule: 'test:1' };
    if (name === 'chat.app.test' || name.endsWith('.app.test')) return { app: 'appx', kind: 'chat', confidence: 0.9, rule: 'test:2' };
    if (name === 'weak.test') return { app: 'weakapp', kind: 'chat', confidence: 0.3, rule: 'test:3' };
    return null;
  },
  matchAddress(addr) {
    return addr.startsWith('10.9.') ? { app: 'rangeapp', kind: 'chat', confidence: 0.35, rule: 'test:4' } : null;
  },
  // The same range as the flow table's words: 10.9.0.0/16.
  matchAddressWords(version, w0) {
    return version === 4 && w0 >>> 16 === 0x0a09 ? { app: 'rangeapp', kind: 'chat', confidence: 0.35, rule: 'test:4' } : null;
  },
};

interface Run {
  rows: Record<string, ImRow[]>;
  all: Map<number, Verdict | null>;
  imv: Map<number, Verdict | null>;
  d: Dispatcher;
}

function run(conns: { e: Endpoints; streams: [string | Buffer, string | Buffer] }[], names: DnsCache | null = new DnsCache()): Run {
  const rows: Record<string, ImRow[]> = {};
  const all = new Map<number, Verdict | null>();
  const imv = new Map<number, Verdict | null>();
  const d = new Dispatcher(new Registry([im, carrier]), {
    output: { row: (tb, r) => (rows[tb] ??= []).push(r) },
    onFlowEnd: (f: Flow) => {
      const v = flowVerdict(f);
      all.set(f.id, v && { ...v });
      const w = imVerdict(f);
      imv.set(f.id, w && { ...w });
    },
    rules,
    names,
  });
  const table = new FlowTable(d);
  d.attach(table);
  let ts = 1_700_000_000;
  for (const { e, streams } of conns) {
    const segs: Seg[] = connection([Buffer.from(streams[0]), Buffer.from(streams[1])], [1000, 5000], { sizes: { max: 1000 } }, prng(7));
    for (const s of segs) {
      const [p, rec] = toPacket(e, s, ts++, 0);
      table.packet(p, rec);
    }
  }
  table.finish();
  return { rows, all, imv, d };
}

const ep = (client: string, server: string, sport = 4443, cport = 40000): Endpoints => ({ client: ip(client), cport, server: ip(server), sport });

t.test('a carrier flow without evidence: its protocol, no app, not IM', async (t) => {
  const r = run([{ e: ep('10.0.0.1', '10.0.0.2'), streams: ['TOY hello\nROW\n', 'OK\n'] }]);
  t.match(r.all.get(1), { protocol: 'toycar', app: null, kind: null, method: null, confidence: 0.9, serverName: null });
  t.equal(r.imv.get(1), null, 'imVerdict names IM flows only');
  t.equal(r.rows.tls?.length, 1, 'the protocol table row is written once confirmed');
  t.equal(r.rows.tls![0]!.flow_id, 1, 'flow_id filled in');
});

t.test('a host name matching an app rule names the app, with the source as method and the rule confidence', async (t) => {
  const r = run([{ e: ep('10.0.0.1', '10.0.0.2'), streams: ['TOY x\nNAME chat.app.test\nNAME other.example\n', 'OK\n'] }]);
  t.match(r.imv.get(1), { protocol: 'toycar', app: 'appx', kind: 'chat', method: 'sni', confidence: 0.9, serverName: 'chat.app.test' });
});

t.test('a site rule (the app\'s web site) names no app, and stops the DNS and IP fallbacks', async (t) => {
  const r = run([{ e: ep('10.0.0.1', '10.9.0.1'), streams: ['TOY x\nNAME www.app.test\n', 'OK\n'] }]);
  t.match(r.all.get(1), { protocol: 'toycar', app: null, serverName: 'www.app.test' });
  t.equal(r.imv.get(1), null);
});

t.test('identify: surer evidence replaces, weaker does not; an IM protocol keeps its own app against weaker evidence', async (t) => {
  const r = run([
    { e: ep('10.0.0.1', '10.0.0.2'), streams: ['TOY x\nID first 0.5\nID second 0.8\nID third 0.7\n', 'OK\n'] },
    { e: ep('10.0.0.1', '10.0.0.3', 5000, 40001), streams: ['IM x\nID other 0.6\n', 'OK\n'] },
    { e: ep('10.0.0.1', '10.0.0.4', 5000, 40002), streams: ['IM x\nID other 0.95\n', 'OK\n'] },
  ]);
  t.match(r.imv.get(1), { app: 'second', kind: 'call', method: 'stun', confidence: 0.8 });
  t.match(r.imv.get(2), { protocol: 'toyim', app: 'toyim', method: 'payload', confidence: 0.9 });
  t.match(r.imv.get(3), { protocol: 'toyim', app: 'other', method: 'stun', confidence: 0.95 });
});

t.test('a name the client resolved is inherited by its later flow to that address (method dns, rule confidence less 0.1)', async (t) => {
  const r = run([
    { e: ep('10.0.0.1', '10.0.0.53', 53), streams: ['TOY q\nRES chat.app.test 10.0.0.77 300\n', 'OK\n'] },
    { e: ep('10.0.0.1', '10.0.0.77', 443, 40010), streams: ['\u0001\u0002 opaque', 'x'] },
  ]);
  t.match(r.all.get(1), { protocol: 'toycar', app: null });
  t.match(r.imv.get(2), { protocol: 'unknown', app: 'appx', kind: 'chat', method: 'dns', serverName: 'chat.app.test' });
  t.equal(r.imv.get(2)!.confidence, 0.8);
  t.equal(r.d.stats.byDns, 1);
  const none = run(
    [
      { e: ep('10.0.0.1', '10.0.0.53', 53), streams: ['TOY q\nRES chat.app.test 10.0.0.77 300\n', 'OK\n'] },
      { e: ep('10.0.0.1', '10.0.0.77', 443, 40010), streams: ['\u0001\u0002 opaque', 'x'] },
    ],
    null,
  );
  t.equal(none.imv.get(2), null, 'without a name cache nothing is inherited');
});

t.test('an address range is the last resort (method ip); unknown and none protocols', async (t) => {
  const r = run([
    { e: ep('10.0.0.1', '10.9.1.1', 443), streams: ['plain text that nothing knows\n', 'neither does this\n'] },
    { e: ep('10.0.0.1', '10.0.0.8', 443, 40011), streams: ['', ''] },
  ]);
  t.match(r.imv.get(1), { protocol: 'unknown', app: 'rangeapp', method: 'ip', confidence: 0.35, encrypted: false });
  t.match(r.all.get(2), { protocol: 'none', app: null, confidence: null });
  t.equal(r.d.stats.byIp, 1);
});

t.test('unrecognised payload that looks encrypted is counted as encrypted', async (t) => {
  const rnd = randomBytes(600);
  rnd[0] = 0x01; // not "TOY " nor "IM "
  const r = run([
    { e: ep('10.0.0.1', '10.0.0.2', 443), streams: [rnd, randomBytes(300)] },
    { e: ep('10.0.0.1', '10.0.0.3', 443, 40012), streams: ['GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test agent with some words\r\n\r\n', 'x'] },
  ]);
  t.match(r.all.get(1), { protocol: 'unknown', app: null, encrypted: true });
  t.match(r.all.get(2), { protocol: 'unknown', app: null, encrypted: false });
});

t.test('a row for a table the descriptor does not declare is refused, naming the protocol', async (t) => {
  t.throws(() => run([{ e: ep('10.0.0.1', '10.0.0.2'), streams: ['TOY x\nBADROW\n', 'OK\n'] }]), /toycar wrote a row to messages/);
});

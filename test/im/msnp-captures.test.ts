// The MSNP analyzer on the real switchboard capture (fixtures/pcaps/msnp: the same pcap twice, once named .dmp),
// through the whole pipeline, against tshark's msnms dissector: the two accounts, every text/plain MSG in order with
// its sender and body, typing notifications as events and never as messages; 1-byte re-segmentation changes nothing.
import t from 'tap';
import { fixture } from '../helpers/fixtures.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { msnp, msnpFtp } from '../../src/decoders/im/msnp/index.js';
import { msnmsFrames, oracleMessages } from './builders/msnp.js';

const registry = new Registry([msnp, msnpFtp]);
type Row = Record<string, unknown>;

for (const name of ['msn-switchboard-chat.pcap', 'msn-switchboard-chat-renamed.dmp']) {
  t.test(`${name}: accounts, messages and typing as tshark shows them`, async (t) => {
    const file = fixture(`msnp/${name}`);
    const r = await imPipeline(file, 0, null, registry);
    t.same(
      r.verdicts.map((v) => [v.protocol, v.app, v.kind, v.method, v.confidence]),
      [['msnp', 'msn', 'chat', 'payload', 1]],
      'one switchboard flow, confirmed',
    );
    const rows = (k: string): Row[] => (r.rows[k] ?? []) as Row[];
    t.same(rows('anomalies'), []);

    const frames = msnmsFrames(file);
    // The client's identity as tshark shows it: `USR trid email cookie`.
    const usr = frames.map((f) => /^USR \d+ (\S+@\S+) /.exec(f.lines[0] ?? '')?.[1]).find((x) => x !== undefined);
    const join = frames.map((f) => /^JOI (\S+) (\S+)/.exec(f.lines[0] ?? '')).find((x) => x !== null);
    t.equal(usr, 'tesla_brian@hotmail.com');
    t.equal(join?.[1], 'tesla_thomas@hotmail.com');

    const accounts = rows('accounts').map((a) => [a.account, a.display_name, a.side, a.auth]).sort();
    t.same(accounts, [
      ['tesla_brian@hotmail.com', 'Brian', 'client', 'cookie'],
      ['tesla_thomas@hotmail.com', 'Thomas', 'server', null],
    ]);

    const oracle = oracleMessages(frames);
    const texts = oracle.filter((m) => !m.typing);
    t.equal(texts.length, 7, "tshark shows 7 text/plain messages (4 from the client, 3 from the peer)");
    t.same(
      rows('messages').map((m) => [m.sender, m.recipient, m.body, m.kind, m.body_format, m.direction]),
      texts.map((m) => [
        m.from ?? usr,
        m.from === null ? 'tesla_thomas@hotmail.com' : usr,
        m.body,
        'chat',
        'text',
        m.from === null ? 'c2s' : 's2c',
      ]),
      'every text/plain MSG, in order, with sender, recipient and body',
    );
    const typing = rows('events').filter((e) => e.event === 'typing');
    t.equal(oracle.filter((m) => m.typing).length, 13, 'tshark shows 13 typing notifications');
    t.equal(typing.length, 13, 'every typing notification is an event');
    t.same(new Set(typing.map((e) => e.account)), new Set(['tesla_brian@hotmail.com', 'tesla_thomas@hotmail.com']));
    t.same(
      rows('events').filter((e) => e.event !== 'typing').map((e) => [e.event, e.account, e.target]),
      [
        ['login', 'tesla_brian@hotmail.com', 'switchboard'],
        ['invite', 'tesla_brian@hotmail.com', 'tesla_thomas@hotmail.com'],
        ['join', 'tesla_thomas@hotmail.com', null],
      ],
    );
    // Never the switchboard cookie.
    t.notOk(JSON.stringify(r.rows).includes('1835953129.20013021.2623242'), 'the USR cookie is not stored');
  });
}

t.test('1-byte re-segmentation gives identical rows', async (t) => {
  const file = fixture('msnp/msn-switchboard-chat.pcap');
  const whole = await imPipeline(file, 0, null, registry);
  const bytes = await imPipeline(file, 1, null, registry);
  t.same(canonicalRows(bytes.rows), canonicalRows(whole.rows));
  t.same(bytes.verdicts.map((v) => [v.protocol, v.confidence]), whole.verdicts.map((v) => [v.protocol, v.confidence]));
});

/**
 * The app signatures at the byte level: each probe and session on the documented shapes (positive), on near misses
 * (negative), and on random bytes (no throw); a probe's guess without the other side's answer leaves no verdict.
 */
import t from 'tap';
import { Probe } from '../../src/decoders/im/types.js';
import { dingtalk, discord, imo, mumble, oicq, skypeUdp, teamspeak, whatsapp } from '../../src/decoders/apps/signatures/index.js';
import { feed, startSession } from '../helpers/im-session.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const p = (proto: typeof whatsapp, b: Uint8Array, dir: 0 | 1 = 0) => proto.probe!(b, 0, b.length, dir, false);

t.test('WhatsApp prologue', async (t) => {
  t.equal(p(whatsapp, hex('57410105 00001a')), Probe.Yes, 'WA 1.5 (2015 capture)');
  t.equal(p(whatsapp, hex('57410502')), Probe.Yes, 'WA 5.2');
  t.equal(p(whatsapp, hex('4544000100000408 0a')), Probe.Yes, 'edge routing header');
  t.equal(p(whatsapp, hex('5741')), Probe.Need);
  t.equal(p(whatsapp, hex('57494e')), Probe.No, '"WIN"');
  t.equal(p(whatsapp, hex('57410105'), 1), Probe.No, 'server side');
  t.equal(whatsapp.probe!(hex('57410105'), 0, 4, 0, true), Probe.No, 'mid-stream');
  const { session, rec } = startSession(whatsapp, { serverPort: 5222 });
  feed(session, [[0, hex('57410105 00001af8')]]);
  t.equal(rec.confirmed, 0.9);
  t.equal(rec.encrypted, 'noise');
});

t.test('OICQ', async (t) => {
  const ok = hex('023b0b 0001 0031 561f0c7b 0000000000000000 03');
  t.equal(p(oicq, ok), Probe.Yes);
  t.equal(p(oicq, hex('023b0b 0001 0031 561f0c7b 0000000000000000 00')), Probe.No, 'no ETX');
  t.equal(p(oicq, hex('023b0b 0200 0031 561f0c7b 0000000000000000 03')), Probe.No, 'command out of range');
  const { session, rec } = startSession(oicq, { transport: 'udp' });
  feed(session, [[0, ok]]);
  t.equal(rec.confirmed, 0.9);
});

t.test('Mumble ping needs the echoed identifier', async (t) => {
  const ping = hex('00000000 03d72000fa76287e');
  t.equal(p(mumble, ping), Probe.Yes);
  t.equal(p(mumble, hex('00000001 03d72000fa76287e')), Probe.No);
  const good = startSession(mumble, { transport: 'udp' });
  feed(good.session, [[0, ping], [1, hex('00010304 03d72000fa76287e 00000000 00000064 00011940')]]);
  t.equal(good.rec.confirmed, 0.9);
  t.equal(good.rec.kind, 'call');
  const wrong = startSession(mumble, { transport: 'udp' });
  feed(wrong.session, [[0, ping], [1, hex('00010304 ffffffffffffffff 00000000 00000064 00011940')]]);
  t.ok(wrong.rec.rejected, 'other identifier: rejected');
  const silent = startSession(mumble, { transport: 'udp' });
  feed(silent.session, [[0, ping]]);
  t.ok(silent.rec.rejected, 'no answer: rejected at the end');
});

t.test('TeamSpeak 3 Init1', async (t) => {
  const init = hex('545333494e4954310065000088 0dd05766005f5916e0ade76b61000000000000');
  t.equal(p(teamspeak, init), Probe.Yes);
  t.equal(p(teamspeak, hex('545333494e4954310066000088')), Probe.No, 'packet id 102');
  const { session, rec } = startSession(teamspeak, { transport: 'udp' });
  feed(session, [[0, init]]);
  t.equal(rec.confirmed, 0.95);
});

t.test('IMO control datagrams', async (t) => {
  t.equal(p(imo, hex('07 0902dc9a020000000000')), Probe.Yes, 'found after a 1-byte datagram');
  t.equal(p(imo, hex('07')), Probe.Need);
  t.equal(p(imo, new Uint8Array(700)), Probe.No);
  const { session, rec } = startSession(imo, { transport: 'udp' });
  feed(session, [[0, hex('07')], [0, hex('0902dc9a020000000000')]]);
  t.equal(rec.confirmed, 0.8);
  const relay = startSession(imo, { transport: 'udp' });
  feed(relay.session, [[1, hex('000903219a020000000000')]]);
  t.equal(relay.rec.confirmed, 0.8, '11-byte answer from a relay');
  const noise = startSession(imo, { transport: 'udp' });
  feed(noise.session, [[0, hex('0902dc9a020000000001')]]);
  t.ok(noise.rec.rejected, 'tail not zero');
});

t.test('Discord keep-alive and IP discovery', async (t) => {
  t.equal(p(discord, hex('81c9000700162ffd 1337cafea9010000')), Probe.Yes, 'keep-alive after RTCP');
  t.equal(p(discord, hex('81c9000700162ffd')), Probe.Need);
  t.equal(p(discord, hex('17 0303')), Probe.No);
  const req = new Uint8Array(74);
  req.set(hex('00010046 00001234'));
  const resp = Uint8Array.from(req);
  resp.set(hex('00020046'));
  const { session, rec } = startSession(discord, { transport: 'udp' });
  feed(session, [[0, req], [1, resp]]);
  t.equal(rec.confirmed, 0.9, 'IP discovery request and response');
  const mid = startSession(discord, { transport: 'udp' });
  feed(mid.session, [[0, hex('81c9000700162ffd537109592cf065d5')], [1, hex('1337cafea9010000')]]);
  t.equal(mid.rec.confirmed, 0.9);
});

t.test('DingTalk', async (t) => {
  const hello = hex('1064 87800100 01000200 02646b03 0020 166ddd35');
  t.equal(p(dingtalk, hello), Probe.Yes);
  t.equal(p(dingtalk, hex('1064 8780')), Probe.Need);
  t.equal(p(dingtalk, hex('1064 87800100 01000200 02646b04 0020')), Probe.No);
  t.equal(p(dingtalk, hex('160301')), Probe.No, 'TLS');
});

t.test('Skype UDP needs both sides and stays off service ports', async (t) => {
  const first = hex('169702aed10087792e012b1b34b94fb4a7cf2ec4a3ef4bd9e7d21f643db7bd');
  const answer = hex('e05702ced0320fcccc8d0eeefde06245335a');
  t.equal(p(skypeUdp, first), Probe.Yes);
  t.equal(p(skypeUdp, hex('d31b02042ac406f3497e6993424b0a16c06e7558')), Probe.No, 'DNSCrypt query (negatives/)');
  t.equal(p(skypeUdp, hex('802a0200000000000000000000000000')), Probe.No, 'RTP-shaped');
  const ok = startSession(skypeUdp, { transport: 'udp', serverPort: 39262 });
  feed(ok.session, [[0, first], [1, answer]]);
  t.equal(ok.rec.confirmed, 0.6);
  const dnscrypt = startSession(skypeUdp, { transport: 'udp', serverPort: 39262 });
  feed(dnscrypt.session, [[0, first], [1, hex('7236666e76576a38796107117ec517179b83ae74')]]);
  t.ok(dnscrypt.rec.rejected, 'DNSCrypt answer ("r6fnvWj8"): rejected');
  const port = startSession(skypeUdp, { transport: 'udp', serverPort: 443 });
  feed(port.session, [[0, first], [1, answer]]);
  t.ok(port.rec.rejected, 'UDP 443');
});

t.test('random bytes: no throw', async (t) => {
  let seed = 99;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  for (const proto of [whatsapp, oicq, mumble, teamspeak, imo, discord, dingtalk, skypeUdp]) {
    for (let i = 0; i < 100; i++) {
      const b = Uint8Array.from({ length: rnd() % 90 }, rnd);
      t.doesNotThrow(() => proto.probe!(b, 0, b.length, (i & 1) as 0 | 1, false));
      const s = startSession(proto, { transport: proto.transport === 'tcp' ? 'tcp' : 'udp' });
      t.doesNotThrow(() => feed(s.session, [[0, b], [1, b], [0, b]], 1 + (i % 5)));
    }
  }
});

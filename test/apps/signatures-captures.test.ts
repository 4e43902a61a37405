/**
 * The STUN carrier and the app signatures over the real captures of `../shared/pcaps/apps/`, against nDPI's own
 * expected output (`apps/expected/*.out`, one line per flow with `[proto: master.app/Name]`): every flow nDPI labels
 * with a call or chat app that these analyzers cover must get the same app here (flows keyed by transport and the
 * two endpoints). Flows nDPI names by TLS/DNS/HTTP are the other carriers' and are left out, as are the two flows
 * whose nDPI verdict rests on an IP range or an undocumented exchange (README: KakaoTalk_Voice, TeamSpeak accounting).
 * The negatives and the clear-text IM captures must give none of these protocols.
 */
import t from 'tap';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture, type FlowVerdict } from '../../src/decoders/im/analyze.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { stun } from '../../src/decoders/apps/stun/index.js';
import { SIGNATURE_PROTOCOLS } from '../../src/decoders/apps/signatures/index.js';

const PCAPS = join(import.meta.dirname, '../../../shared/pcaps');
const APPS = join(PCAPS, 'apps');

/** nDPI's app names → imtap's app ids (shared vocabulary). */
const NDPI_APP: Record<string, string> = {
  WhatsAppCall: 'whatsapp',
  WhatsApp: 'whatsapp',
  SignalVoip: 'signal',
  GoogleHangoutDuo: 'google-meet',
  GoogleCall: 'google-meet',
  Skype_TeamsCall: 'skype',
  OICQ: 'qq',
  Mumble: 'mumble',
  TeamSpeak: 'teamspeak',
  IMO: 'imo',
  Discord: 'discord',
  DingTalk: 'dingtalk',
  KakaoTalk_Voice: 'kakaotalk',
};
/** Masters whose flows other analyzers name (tls, dns, http, quic). */
const OTHERS = new Set(['TLS', 'DNS', 'HTTP', 'HTTP_Proxy', 'QUIC', 'MDNS']);
/** Flows left out on purpose (README): nDPI's verdict comes from an IP range or an undocumented exchange. */
const LEFT_OUT = new Set([
  flowKey('udp', '10.24.82.188:10269', '1.201.1.174:23047'),
  flowKey('udp', '10.24.82.188:11321', '1.201.1.174:23045'),
  flowKey('udp', '193.31.25.70:2011', '51.68.181.92:2010'),
]);

interface Expected {
  key: string;
  app: string;
  label: string;
}

function endpoint(s: string): string {
  return s.startsWith('[') ? s.replace(/^\[(.*)\]:(\d+)$/, '$1:$2') : s;
}

function flowKey(transport: string, a: string, b: string): string {
  return `${transport} ${[endpoint(a), endpoint(b)].sort().join(' ')}`;
}

function expectedFlows(file: string): Expected[] {
  const out: Expected[] = [];
  for (const line of readFileSync(join(APPS, 'expected', `${file}.out`), 'utf8').split('\n')) {
    const m = /^\s+\d+\s+(TCP|UDP) (\S+) <?-> (\S+) .*?\[proto: [\d.]+\/([^\]]+)\]/.exec(line);
    if (!m) continue;
    const names = m[4]!.split('.');
    const app = NDPI_APP[names[names.length - 1]!];
    if (app === undefined || (names.length > 1 && OTHERS.has(names[0]!))) continue;
    out.push({ key: flowKey(m[1]!.toLowerCase(), m[2]!, m[3]!), app, label: m[4]! });
  }
  return out;
}

const ours = (f: FlowVerdict) => flowKey(f.transport, `${f.client_ip}:${f.client_port}`, `${f.server_ip}:${f.server_port}`);

const CAPTURES = [
  'whatsapp_login_call.pcap',
  'whatsapp_login_chat.pcap',
  'stun_signal.pcapng',
  'hangout.pcap',
  'skype-conference-call.pcap',
  'skype_udp.pcap',
  'oicq.pcap',
  'mumble.pcapng',
  'teamspeak3.pcap',
  'imo.pcap',
  'discord_mid_flow.pcap',
  'dingtalk.pcap',
  'KakaoTalk_talk.pcap',
];

let agreed = 0;
for (const file of CAPTURES) {
  t.test(`${file}: same app as nDPI on every call/chat flow`, async (t) => {
    const r = await analyzeCapture(join(APPS, file));
    const got = new Map<string, FlowVerdict>();
    for (const f of [...r.flows, ...r.others]) got.set(ours(f), f);
    const want = expectedFlows(file);
    t.ok(want.length > 0, 'nDPI labels flows of this capture with an app');
    for (const e of want) {
      if (LEFT_OUT.has(e.key)) {
        t.equal(got.get(e.key)?.app ?? null, null, `${e.key}: nDPI ${e.label} is left out (README), no app claimed`);
        continue;
      }
      const f = got.get(e.key);
      t.equal(f?.app ?? null, e.app, `${e.key}: nDPI ${e.label}, imtap ${f?.protocol ?? 'no flow'}/${f?.app ?? 'no app'}`);
      if (f?.app === e.app) agreed++;
    }
  });
}

t.test('what the flows carry after STUN (nDPI: SRTP on the WhatsApp media flows)', async (t) => {
  const r = await analyzeCapture(join(APPS, 'whatsapp_login_call.pcap'));
  const by = new Map(r.flows.map((f) => [ours(f), f]));
  for (const e of readFileSync(join(APPS, 'expected', 'whatsapp_login_call.pcap.out'), 'utf8').split('\n')) {
    const m = /^\s+\d+\s+UDP (\S+) <?-> (\S+) .*?\[proto: [\d.]+\/(STUN|SRTP)\.WhatsAppCall\]/.exec(e);
    if (!m) continue;
    const f = by.get(flowKey('udp', m[1]!, m[2]!));
    // nDPI stops looking after a few packets; where it says STUN, RTP may still follow on the flow (52794 ↔
    // 31.13.84.48:3478 carries ten RTP packets of payload type 120, tshark shows them): stun or srtp then.
    if (m[3] === 'SRTP') t.equal(f?.protocol, 'srtp', `${m[1]} ${m[2]}: nDPI SRTP`);
    else t.ok(f?.protocol === 'stun' || f?.protocol === 'srtp', `${m[1]} ${m[2]}: nDPI STUN, imtap ${f?.protocol}`);
    t.equal(f?.kind, 'call');
  }
});

t.test('agreement count', async (t) => {
  t.ok(agreed >= 70, `flows agreeing with nDPI: ${agreed}`);
});

// ── negatives: only these analyzers in the registry, so that every flow reaches their probes ──

const mine = new Registry([stun, ...SIGNATURE_PROTOCOLS]);
const MINE = new Set(['stun', 'rtp', 'srtp', 'dtls', ...SIGNATURE_PROTOCOLS.map((p) => p.id)]);

function captures(dir: string): string[] {
  const d = join(PCAPS, dir);
  return existsSync(d) ? readdirSync(d).filter((n) => /\.(pcap|pcapng|dmp)$/.test(n)).map((n) => join(d, n)) : [];
}

for (const dir of ['negatives', 'irc', 'xmpp', 'sip', 'msnp', 'oscar', 'web']) {
  t.test(`${dir}: no STUN, media or app signature claimed`, async (t) => {
    const files = captures(dir);
    t.ok(files.length > 0);
    for (const file of files) {
      const r = await analyzeCapture(file, { registry: mine });
      const claimed = [...r.flows, ...r.others].filter((f) => MINE.has(f.protocol));
      t.same(
        claimed.map((f) => `${f.protocol} ${ours(f)}`),
        [],
        file.slice(PCAPS.length + 1),
      );
    }
  });
}

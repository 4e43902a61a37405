/**
 * imtap against nDPI on the apps captures (fixtures/pcaps/apps, nDPI's expected output beside them in `expected/`):
 * for every flow nDPI labels with a chat, VoIP or collaboration app, imtap should name the same app. The agreement
 * table is printed (as TAP comments). Each difference that remains is listed in DIFFERENCES with the reason, checked
 * by hand against the bytes: the test fails on a difference not listed, and on a listed one that has gone away (so
 * the list cannot rot). Flows are matched by their 5-tuple in either orientation.
 *
 * Also: the negatives (fixtures/pcaps/negatives) yield no IM at all, and imtap names no IM app on a flow nDPI
 * gives a non-IM label unless listed in DIFFERENCES.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { analyzeCapture, type FlowVerdict } from '../../src/decoders/im/analyze.js';
import { loadAppRules } from '../../src/decoders/apps/rules.js';
import { DnsCache } from '../../src/decoders/apps/dns-cache.js';
import { allCaptures, fixture, rel } from '../helpers/fixtures.js';

/** nDPI protocol names that are IM apps, and the imtap app ids that agree with them. */
const NDPI_APPS: Record<string, string[]> = {
  WhatsApp: ['whatsapp'],
  WhatsAppCall: ['whatsapp'],
  WhatsAppFiles: ['whatsapp'],
  SignalVoip: ['signal'],
  Signal: ['signal'],
  Skype_Teams: ['skype', 'teams'],
  Skype_TeamsCall: ['skype', 'teams'],
  Teams: ['teams'],
  Telegram: ['telegram'],
  KakaoTalk: ['kakaotalk'],
  KakaoTalk_Voice: ['kakaotalk'],
  OICQ: ['qq'],
  QQ: ['qq'],
  IMO: ['imo'],
  DingTalk: ['dingtalk'],
  GoogleChat: ['google-chat'],
  GoogleHangoutDuo: ['google-meet'],
  FacebookMessenger: ['messenger'],
  Discord: ['discord'],
  Mumble: ['mumble'],
  TeamSpeak: ['teamspeak'],
  Fuze: ['fuze'],
  Slack: ['slack'],
  Zoom: ['zoom'],
  Webex: ['webex'],
  Viber: ['viber'],
  LINE: ['line'],
  LineCall: ['line'],
  WeChat: ['wechat'],
  Threema: ['threema'],
};

/**
 * Differences from nDPI that remain, by `capture|proto a:p b:q` (as nDPI prints the flow), with the reason.
 * `imtap` is the app imtap names (null: none).
 */
const DIFFERENCES: Record<string, { imtap: string | null; why: string }> = {
  'whatsapp_login_call.pcap|UDP 192.168.2.4:52190 <-> 192.168.2.1:53': {
    imtap: null,
    why: 'a DNS lookup of a WhatsApp name is not use of WhatsApp: imtap keeps the DNS flow as dns (the answer names the later flows, method dns)',
  },
  'whatsapp_login_chat.pcap|UDP 192.168.2.4:61697 <-> 192.168.2.1:53': {
    imtap: null,
    why: 'a DNS lookup of a WhatsApp name is not use of WhatsApp (as above)',
  },
  'KakaoTalk_talk.pcap|UDP 10.24.82.188:10269 <-> 1.201.1.174:23047': {
    imtap: null,
    why: "nDPI's KakaoTalk_Voice rule is one RTCP-like first byte plus the server being in 1.201.0.0/16, a Korean hosting range (KINX) shared by many customers; imtap does not name an app from a hosting range, and the payload is ordinary encrypted RTCP",
  },
  'KakaoTalk_talk.pcap|UDP 10.24.82.188:11321 <-> 1.201.1.174:23045': {
    imtap: null,
    why: 'the same KakaoTalk_Voice rule as the flow above',
  },
  'KakaoTalk_talk.pcap|TCP 10.24.82.188:48489 <-> 203.205.147.215:80': {
    imtap: 'wechat',
    why: "HTTP POSTs to *.weixin.qq.com with the User-Agent MicroMessenger (WeChat's client): WeChat, which nDPI files under QQ because its qq.com rule matches first (both Tencent)",
  },
  'KakaoTalk_talk.pcap|TCP 10.24.82.188:58916 <-> 54.255.185.236:5222': {
    imtap: 'xmpp',
    why: 'clear-text XMPP stanzas on 5222 (a phone push channel to xiaomi.com); nDPI names it only by its AmazonAWS address',
  },
  'teamspeak3.pcap|UDP 193.31.25.70:2011 <-> 51.68.181.92:2010': {
    imtap: null,
    why: "TeamSpeak's server-list/accounting exchange between two servers on 2010/2011, not a client's use: no documentation of its format was found, so no signature; the client flows on 9987 agree",
  },
};

interface NdpiFlow {
  key: string;
  label: string;
  app: string[] | null;
  category: string;
  line: string;
}

/** `TCP 1.2.3.4:5 <-> [2001::1]:443` → a key independent of the orientation. */
function tupleKey(proto: string, a: string, b: string): string {
  const ends = [a, b].map((x) => x.replace(/^\[|\](?=:\d+$)/g, '')).sort();
  return `${proto} ${ends[0]} ${ends[1]}`;
}

function readExpected(file: string): NdpiFlow[] {
  const out: NdpiFlow[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s+\d+\s+(TCP|UDP)\s+(\S+)\s+<->\s+(\S+)\s+.*?\[proto: [\d.]+\/([^\]]+)\]/.exec(line);
    if (m === null) continue;
    const label = m[4]!;
    const names = label.split('.');
    let app: string[] | null = null;
    for (const n of names) if (NDPI_APPS[n]) app = NDPI_APPS[n]!;
    const category = /\[cat: ([^/\]]+)/.exec(line)?.[1] ?? '';
    out.push({ key: tupleKey(m[1]!, m[2]!, m[3]!), label, app, category, line: `${m[1]} ${m[2]} <-> ${m[3]}` });
  }
  return out;
}

const ourKey = (v: FlowVerdict) => {
  const fmt = (ip: string, port: number) => `${ip}:${port}`;
  return tupleKey(v.transport.toUpperCase(), fmt(v.client_ip, v.client_port), fmt(v.server_ip, v.server_port));
};

const captures = allCaptures().filter((f) => rel(f).startsWith('apps/'));
const seen = new Set<string>();
const table: string[] = [];
let agree = 0;
let total = 0;

for (const file of captures) {
  const expected = fixture(`apps/expected/${path.basename(file)}.out`);
  if (!fs.existsSync(expected)) continue;
  t.test(path.basename(file), async (t) => {
    const r = await analyzeCapture(file, { rules: loadAppRules(), names: new DnsCache() });
    const ours = new Map<string, FlowVerdict[]>();
    for (const v of [...r.flows, ...r.others]) {
      const k = ourKey(v);
      ours.set(k, [...(ours.get(k) ?? []), v]);
    }
    for (const n of readExpected(expected)) {
      const mine = ours.get(n.key) ?? [];
      const apps = [...new Set(mine.map((v) => v.app))];
      const app = apps.find((a) => a !== null) ?? null;
      const how = mine.find((v) => v.app === app);
      const id = `${path.basename(file)}|${n.line}`;
      const listed = DIFFERENCES[id];
      if (n.app !== null) {
        total++;
        const ok = app !== null && n.app.includes(app);
        if (ok) agree++;
        table.push(`${ok ? 'agree ' : 'DIFFER'} ${path.basename(file)} ${n.line}: nDPI ${n.label} (${n.category}); imtap ${app ?? '-'}${how ? ` by ${how.method} ${how.confidence}` : ''} [${mine.map((v) => v.protocol).join(',') || 'no flow'}]`);
        if (listed) {
          seen.add(id);
          t.equal(app, listed.imtap, `${id}: known difference (${listed.why})`);
          t.notOk(ok, `${id}: listed as a difference but now agrees: remove it from DIFFERENCES`);
        } else t.ok(ok, `${id}: nDPI ${n.label}, imtap ${app ?? 'nothing'}`);
      } else if (app !== null) {
        table.push(`extra  ${path.basename(file)} ${n.line}: nDPI ${n.label} (${n.category}); imtap ${app} by ${how?.method} ${how?.confidence}`);
        if (listed) {
          seen.add(id);
          t.equal(app, listed.imtap, `${id}: known difference (${listed.why})`);
        } else t.fail(`${id}: imtap names ${app} (${how?.method}), nDPI ${n.label}: not IM for nDPI`);
      }
    }
  });
}

t.test('negatives yield no IM at all', async (t) => {
  for (const file of allCaptures().filter((f) => rel(f).startsWith('negatives/'))) {
    const r = await analyzeCapture(file, { rules: loadAppRules(), names: new DnsCache() });
    t.same(
      r.flows.map((v) => `${v.protocol}/${v.app} by ${v.method}`),
      [],
      rel(file),
    );
  }
});

t.test('the agreement table', async (t) => {
  for (const line of table.sort()) t.comment(line);
  t.comment(`imtap agrees with nDPI on ${agree} of ${total} IM flows`);
  for (const id of Object.keys(DIFFERENCES)) t.ok(seen.has(id), `${id}: listed in DIFFERENCES but no such flow`);
});

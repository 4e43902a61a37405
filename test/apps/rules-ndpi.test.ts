/**
 * The built-in app rules against nDPI's expected output (../shared/pcaps/apps/expected/*.out and
 * negatives/expected/*.out, ndpiReader's own results for those captures): every `Hostname/SNI:` of a flow nDPI labels
 * with a chat, VoIP or collaboration app must match the same app here; every name of a flow nDPI labels with anything
 * else (plain TLS, Facebook the social network, Apple, Google…) must not name an IM app.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { loadAppRules } from '../../src/decoders/apps/rules.js';

const shared = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'pcaps');

/**
 * nDPI application names of chat, VoIP and collaboration apps → the app ids that agree with them. nDPI's "QQ" is
 * matched by its qq.com rule before its WeChat ones, so a *.weixin.qq.com name it calls QQ is WeChat here
 * (docs/rules.md); nDPI merged Skype and Teams into one protocol, kept apart here.
 */
const IM: Record<string, string[]> = {
  WhatsApp: ['whatsapp'],
  WhatsAppCall: ['whatsapp'],
  WhatsAppFiles: ['whatsapp'],
  Telegram: ['telegram'],
  TelegramVoip: ['telegram'],
  Signal: ['signal'],
  SignalVoip: ['signal'],
  KakaoTalk: ['kakaotalk'],
  KakaoTalk_Voice: ['kakaotalk'],
  GoogleChat: ['google-chat'],
  GoogleMeet: ['google-meet'],
  GoogleHangoutDuo: ['google-meet'],
  FacebookMessenger: ['messenger'],
  Messenger: ['messenger'],
  Teams: ['teams', 'skype'],
  Skype_Teams: ['teams', 'skype'],
  Skype_TeamsCall: ['teams', 'skype'],
  Skype: ['skype', 'teams'],
  DingTalk: ['dingtalk'],
  Fuze: ['fuze'],
  Mumble: ['mumble'],
  TeamSpeak: ['teamspeak'],
  QQ: ['qq', 'wechat'],
  WeChat: ['wechat'],
  Line: ['line'],
  LineCall: ['line'],
  Viber: ['viber'],
  IMO: ['imo'],
  Zoom: ['zoom'],
  Webex: ['webex'],
  Slack: ['slack'],
  Discord: ['discord'],
  Snapchat: ['snapchat'],
  SnapchatCall: ['snapchat'],
  Threema: ['threema'],
  Wire: ['wire'],
  Element: ['element'],
  Matrix: ['element'],
};

interface Named {
  file: string;
  label: string;
  app: string | null;
  host: string;
}

function namedFlows(dir: string): Named[] {
  const out: Named[] = [];
  for (const file of fs.readdirSync(dir).filter((n) => n.endsWith('.out'))) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const proto = /\[proto: [\d.]+\/([^\]]+)\]/.exec(line);
      const host = /\[Hostname\/SNI: ([^\]]+)\]/.exec(line);
      if (!proto || !host) continue;
      // "TLS.Telegram" → Telegram; "HTTP_Proxy.QQ" → QQ; "TLS" alone → no application.
      const parts = proto[1]!.split('.');
      out.push({ file, label: proto[1]!, app: parts.length > 1 ? parts[parts.length - 1]! : null, host: host[1]! });
    }
  }
  return out;
}

const flows = [...namedFlows(path.join(shared, 'apps', 'expected')), ...namedFlows(path.join(shared, 'negatives', 'expected'))];
const rules = loadAppRules();

t.test('flows nDPI names with an IM app: the same app here', async (t) => {
  const im = flows.filter((f) => f.app !== null && IM[f.app]);
  t.ok(im.length >= 15, `${im.length} names of IM flows`);
  for (const f of im) {
    const m = rules.matchHost(f.host);
    t.ok(m !== null && m.app !== null && IM[f.app!]!.includes(m.app), `${f.file}: ${f.host} (nDPI ${f.label}) → ${m?.app ?? 'nothing'}`);
  }
});

t.test('flows nDPI names with anything else: no IM app here', async (t) => {
  const other = flows.filter((f) => f.app === null || !IM[f.app]);
  t.ok(other.length >= 40, `${other.length} names of other flows`);
  for (const f of other) {
    const m = rules.matchHost(f.host);
    t.ok(m === null || m.app === null, `${f.file}: ${f.host} (nDPI ${f.label}) → ${m === null ? 'no rule' : m.app === null ? 'site' : m.app}`);
  }
});

t.test('every IM label in the corpus is known to this test', async (t) => {
  // A new capture with an IM app this map does not know would otherwise be checked as "not IM".
  const labels = new Set(flows.map((f) => f.app).filter((a): a is string => a !== null));
  const notIm = ['Google', 'Facebook', 'Apple', 'AppleStore', 'GoogleMaps', 'GoogleDrive', 'GoogleClassroom', 'Threads', 'Likee', 'LastFM', 'Hulu', 'UbuntuONE', 'Wikipedia', 'eBay', 'CNN', 'Pandora', 'Twitch', 'IFLIX', 'Outlook', 'Deezer', 'Microsoft', 'MS_OneDrive', 'Playstation', 'Pastebin', 'LinkedIn', 'SoundCloud', 'AmazonVideo', 'Bloomberg', 'AppleSiri', 'Activision', 'GitLab', 'Vimeo', 'Badoo', 'AccuWeather', 'ElectronicArts', 'HuaweiCloud', 'Bluesky', 'Mastodon', 'NordVPN', 'SurfShark', 'Xbox', 'TikTok', 'iQIYI', 'AdobeConnect', 'DisneyPlus'];
  for (const l of labels) t.ok(IM[l] || notIm.includes(l), `nDPI label ${l} is classified`);
});

/**
 * The app rules (src/decoders/apps/rules.ts, docs/rules.md): host-name matching semantics (label boundaries, exact
 * against suffix, longest suffix, site rules), user files over built-in ones, bad files named by file and line, IPv4
 * and IPv6 ranges at their edges (checked against node's own net.BlockList), and the built-in data files' headers.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { builtinRuleFiles, builtinRulesDir, compileRules, loadAppRules, parseRuleText, readRuleFile, RuleFileError, type RuleLine } from '../../src/decoders/apps/rules.js';
import { prng } from '../helpers/synth.js';
import { tempDir } from '../helpers/temp.js';

const rules = (text: string, file = 'test.rules'): RuleLine[] => parseRuleText(text, file).rules;
const one = (...layers: string[]) => compileRules(layers.map((l, i) => rules(l, `layer${i}.rules`)));

t.test('host patterns: exact names, *.suffix on a label boundary, case and final dot ignored', async (t) => {
  const r = one(['host *.whatsapp.net whatsapp chat 0.9', 'host whatsapp.net whatsapp chat 0.8', 'host web.example.org exampleapp web 0.7'].join('\n'));
  t.equal(r.matchHost('e12.whatsapp.net')?.app, 'whatsapp');
  t.equal(r.matchHost('a.b.c.whatsapp.net')?.app, 'whatsapp', 'any depth');
  t.equal(r.matchHost('whatsapp.net')?.confidence, 0.8, 'the bare name has its own line');
  t.equal(r.matchHost('notwhatsapp.net'), null, 'not on a label boundary');
  t.equal(r.matchHost('whatsapp.net.evil.com'), null, 'a suffix, not a substring');
  t.equal(r.matchHost('xwhatsapp.net'), null);
  t.equal(r.matchHost('E12.WhatsApp.NET.')?.app, 'whatsapp', 'case and the final dot');
  t.equal(r.matchHost('web.example.org')?.kind, 'web');
  t.equal(r.matchHost('x.web.example.org'), null, 'an exact rule does not cover subdomains');
  t.equal(r.matchHost('example.org'), null);
  for (const bad of ['', '.', '..', 'net', '.whatsapp.net.', 'a..whatsapp.net', 'x'.repeat(300) + '.whatsapp.net']) {
    t.doesNotThrow(() => r.matchHost(bad), `no throw on ${JSON.stringify(bad.slice(0, 20))}`);
  }
  t.equal(one('host *.whatsapp.net whatsapp chat 0.9\n').matchHost('x'.repeat(300) + '.whatsapp.net'), null, 'longer than 253 characters: no name');
  t.equal(r.matchHost('a..whatsapp.net')?.app, 'whatsapp', 'suffix matching does not validate the rest of a name');
});

t.test('specificity: exact beats suffix, the longest suffix wins, a site rule beats a broader app rule', async (t) => {
  const r = one(
    [
      'host *.example.com appa chat 0.9',
      'host *.media.example.com appa file 0.9',
      'host chat.media.example.com appb chat 0.9',
      'site www.example.com appa',
      'site *.help.example.com appa',
      'host live.help.example.com appa chat 0.9',
    ].join('\n'),
  );
  t.same(r.matchHost('x.example.com'), { app: 'appa', kind: 'chat', confidence: 0.9, rule: 'layer0.rules:1' });
  t.equal(r.matchHost('img.media.example.com')?.kind, 'file', 'longer suffix');
  t.equal(r.matchHost('a.img.media.example.com')?.kind, 'file');
  t.equal(r.matchHost('chat.media.example.com')?.app, 'appb', 'exact name');
  const site = r.matchHost('www.example.com');
  t.equal(site?.app, null, 'site rule: no app');
  t.match(site?.rule, /layer0\.rules:4 \(site of appa\)/);
  t.equal(r.matchHost('faq.help.example.com')?.app, null, 'site suffix beats the broader app suffix');
  t.equal(r.matchHost('live.help.example.com')?.app, 'appa', 'an exact app rule beats the site suffix');
  t.equal(r.matchHost('example.com'), null);
});

t.test('the same pattern twice in one layer: the later line', async (t) => {
  const r = one('host a.example appa chat 0.5\nhost a.example appb call 0.6\n');
  t.same(r.matchHost('a.example'), { app: 'appb', kind: 'call', confidence: 0.6, rule: 'layer0.rules:2' });
});

t.test('user files beat the built-in rules, later files beat earlier ones, wherever they match', async (t) => {
  const dir = tempDir('rules');
  const a = path.join(dir, 'a.rules');
  const b = path.join(dir, 'b.rules');
  fs.writeFileSync(a, 'host *.whatsapp.net mywa call 0.7\nhost kerve.last.fm lastchat chat 0.9\nsite web.whatsapp.com whatsapp\nip 149.154.167.0/24 mytg call 0.4\n');
  fs.writeFileSync(b, 'host kerve.last.fm laterchat chat 0.9\n');
  const builtin = loadAppRules();
  t.equal(builtin.matchHost('mmg.whatsapp.net')?.kind, 'file', 'built-in: media host');
  t.equal(builtin.matchHost('kerve.last.fm'), null, 'no built-in rule');
  const r = loadAppRules([a, b]);
  t.same(r.matchHost('mmg.whatsapp.net'), { app: 'mywa', kind: 'call', confidence: 0.7, rule: `${a}:1` }, 'a user suffix beats a more specific built-in name');
  t.equal(r.matchHost('kerve.last.fm')?.app, 'laterchat', 'the later file');
  t.equal(r.matchHost('web.whatsapp.com')?.app, null, 'a user site rule');
  t.equal(r.matchHost('chat.signal.org')?.app, 'signal', 'built-in rules still apply where no user rule matches');
  t.equal(r.matchAddress('149.154.167.51')?.app, 'mytg', 'a user range inside a built-in one');
  t.equal(r.matchAddress('149.154.166.255')?.app, 'telegram', 'the built-in range around it');
  t.equal(r.matchAddress('149.154.168.0')?.app, 'telegram');
  t.equal(loadAppRules(), builtin, 'the built-in rules are compiled once');
  t.equal(builtin.matchHost('mmg.whatsapp.net')?.app, 'whatsapp', 'user rules do not leak into the shared built-in set');
});

t.test('bad lines: an error naming the file and the line', async (t) => {
  const cases: [string, RegExp][] = [
    ['hostt a.example app chat 0.9', /unknown rule type "hostt"/],
    ['host a.example app chat', /has 5 fields/],
    ['site a.example app chat 0.9', /has 3 fields/],
    ['host a.example app voice 0.9', /unknown kind "voice"/],
    ['host a.example app chat 1.5', /confidence "1.5"/],
    ['host a.example app chat high', /confidence "high"/],
    ['host a.example App! chat 0.9', /not an app id/],
    ['host a..example app chat 0.9', /empty label/],
    ['host *.*.example app chat 0.9', /not a host name/],
    ['host a.exa$mple app chat 0.9', /not a host name/],
    [`host ${'a'.repeat(64)}.example app chat 0.9`, /label of 64 characters exceeds 63/],
    ['ip 10.1.0.0/8 app chat 0.3', /bits set after the \/8 prefix/],
    ['ip 10.0.0.0/33 app chat 0.3', /prefix length must be 0 to 32/],
    ['ip 256.0.0.0/8 app chat 0.3', /not an IPv4 address/],
    ['ip 2001:db8::1::/64 app chat 0.3', /not an IPv6 address/],
    ['ip 2001:db8::/129 app chat 0.3', /0 to 128/],
    ['# date: 23/11/2026', /YYYY-MM-DD/],
    [`host ${'a.'.repeat(600)}example app chat 0.9`, /line of \d+ characters exceeds 1024/],
  ];
  for (const [line, re] of cases) {
    const text = `# a comment\n\nhost ok.example app chat 0.9\n${line}\n`;
    const e = t.throws(() => parseRuleText(text, 'my.rules')) as unknown;
    t.ok(e instanceof RuleFileError, line.slice(0, 40));
    t.equal((e as RuleFileError).line, 4);
    t.match((e as Error).message, /^my\.rules:4: /);
    t.match((e as Error).message, re);
  }
  const e = t.throws(() => readRuleFile('/nonexistent/dir/x.rules')) as Error;
  t.equal(e.message, '/nonexistent/dir/x.rules: cannot read the rule file (ENOENT)');
  t.throws(() => parseRuleText('host a.example app chat 0.9\n', 'b.rules', true), /b\.rules:1: missing "# source:" header/);
  t.throws(() => parseRuleText('# source: x\nhost a.example app chat 0.9\n', 'b.rules', true), /missing "# date:" header/);
  t.doesNotThrow(() => parseRuleText('\ufeff# source: x\r\n# date: 2026-01-02\r\nhost a.example app chat 0.9 # trailing comment\r\n', 'c.rules', true), 'BOM, CRLF, trailing comments');
});

t.test('IPv4 ranges: both edges in, the addresses beside them out, nested ranges', async (t) => {
  const r = one(['ip 10.0.0.0/8 big chat 0.3', 'ip 10.1.2.0/24 small call 0.4', 'ip 192.0.2.7 single chat 0.3', 'ip 0.0.0.0/0 any chat 0.1'].join('\n'), 'ip 255.255.255.255 top chat 0.3\n');
  const at = (ip: string) => r.matchAddress(ip)?.app ?? null;
  t.equal(at('10.0.0.0'), 'big');
  t.equal(at('10.255.255.255'), 'big');
  t.equal(at('9.255.255.255'), 'any');
  t.equal(at('11.0.0.0'), 'any');
  t.equal(at('10.1.2.0'), 'small', 'the longer prefix inside');
  t.equal(at('10.1.2.255'), 'small');
  t.equal(at('10.1.1.255'), 'big', 'just before the nested range');
  t.equal(at('10.1.3.0'), 'big', 'just after');
  t.equal(at('192.0.2.7'), 'single');
  t.equal(at('192.0.2.8'), 'any');
  t.equal(at('0.0.0.0'), 'any');
  t.equal(at('255.255.255.255'), 'top', 'a later layer');
  t.equal(at('::ffff:10.1.2.3'), 'small', 'IPv4-mapped IPv6');
  for (const bad of ['10.1.2', '10.1.2.3.4', '10.01.2.3', '256.1.1.1', '', 'x', '10.1.2.3 ', '1.2.3.-4']) t.equal(r.matchAddress(bad), null, `not an address: ${JSON.stringify(bad)}`);
});

t.test('IPv6 ranges: edges, text forms, nesting', async (t) => {
  const r = one(['ip 2001:db8::/32 doc chat 0.3', 'ip 2001:db8:1::/48 inner call 0.4', 'ip 2001:67c:4e8::/48 tg chat 0.35', 'ip ::1 lo chat 0.3', 'ip fe80::/10 ll chat 0.3'].join('\n'));
  const at = (ip: string) => r.matchAddress(ip)?.app ?? null;
  t.equal(at('2001:db8::'), 'doc');
  t.equal(at('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'), 'doc');
  t.equal(at('2001:db7:ffff:ffff:ffff:ffff:ffff:ffff'), null);
  t.equal(at('2001:db9::'), null);
  t.equal(at('2001:db8:1::'), 'inner');
  t.equal(at('2001:db8:1:ffff:ffff:ffff:ffff:ffff'), 'inner');
  t.equal(at('2001:db8:0:ffff:ffff:ffff:ffff:ffff'), 'doc');
  t.equal(at('2001:db8:2::'), 'doc');
  t.equal(at('2001:0DB8:0001:0000:0000:0000:0000:0001'), 'inner', 'uncompressed, upper case');
  t.equal(at('2001:db8:1::1%eth0'), 'inner', 'zone index');
  t.equal(at('::1'), 'lo');
  t.equal(at('::'), null);
  t.equal(at('fe80::1'), 'll');
  t.equal(at('febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 'll');
  t.equal(at('fec0::'), null);
  t.equal(at('2001:67c:4e8:f004::9'), 'tg');
  t.equal(at('::ffff:1.2.3.4'), null, 'IPv4-mapped goes to the IPv4 table');
  for (const bad of ['2001:db8::1::', '2001:db8:::1', '12345::', '2001:db8:1:2:3:4:5:6:7', ':1', '1:', 'g::1', '2001:db8::1.2.3', '::1.2.3.4.5']) t.equal(r.matchAddress(bad), null, `not an address: ${bad}`);
});

t.test('range membership agrees with node net.BlockList on the built-in ranges (edges and random addresses)', async (t) => {
  const r = loadAppRules();
  const byApp = new Map<string, net.BlockList>();
  const all: { addr: string; v6: boolean; prefix: number }[] = [];
  for (const f of builtinRuleFiles()) {
    for (const rule of f.rules) {
      if (rule.type !== 'ip') continue;
      const [addr, p] = rule.pattern.split('/') as [string, string | undefined];
      const v6 = addr.includes(':');
      const prefix = p === undefined ? (v6 ? 128 : 32) : Number(p);
      let bl = byApp.get(rule.app);
      if (!bl) byApp.set(rule.app, (bl = new net.BlockList()));
      bl.addSubnet(addr, prefix, v6 ? 'ipv6' : 'ipv4');
      all.push({ addr, v6, prefix });
    }
  }
  t.ok(all.length > 300, `${all.length} built-in ranges`);
  const expected = (ip: string, v6: boolean) => {
    const hits = [...byApp].filter(([, bl]) => bl.check(ip, v6 ? 'ipv6' : 'ipv4')).map(([app]) => app);
    return hits.length === 0 ? null : hits;
  };
  const v4text = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  const v6text = (n: bigint) => Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
  const rnd = prng(7);
  let checked = 0;
  let mismatches = 0;
  const check = (ip: string, v6: boolean) => {
    const want = expected(ip, v6);
    const got = r.matchAddress(ip)?.app ?? null;
    checked++;
    if (want === null ? got !== null : got === null || !want.includes(got)) {
      if (mismatches++ < 5) t.fail(`${ip}: BlockList says ${want}, rules say ${got}`);
    }
  };
  for (const { addr, v6, prefix } of all) {
    if (!v6) {
      const start = addr.split('.').reduce((a, o) => a * 256 + Number(o), 0);
      const size = 2 ** (32 - prefix);
      for (const n of [start - 1, start, start + 1, start + size - 1, start + size, start + Math.floor(rnd() * size)]) if (n >= 0 && n < 2 ** 32) check(v4text(n), false);
    } else {
      const full = new net.SocketAddress({ address: addr, family: 'ipv6' }).address;
      const start = BigInt('0x' + expandV6(full));
      const size = 1n << BigInt(128 - prefix);
      for (const n of [start - 1n, start, start + size - 1n, start + size]) check(v6text(n), true);
    }
  }
  for (let i = 0; i < 20000; i++) check(v4text(Math.floor(rnd() * 2 ** 32)), false);
  t.equal(mismatches, 0, `${checked} addresses checked`);
});

function expandV6(a: string): string {
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const mid = tail === undefined ? [] : Array(8 - h.length - tl.length).fill('0');
  return [...h, ...mid, ...tl].map((g) => g.padStart(4, '0')).join('');
}

t.test('hostile input never throws (random names and addresses)', async (t) => {
  const r = loadAppRules();
  const rnd = prng(11);
  const alphabet = 'abcdefxyz0129.:-*_%ABCF \u0000\u00e9';
  for (let i = 0; i < 20000; i++) {
    let s = '';
    const n = Math.floor(rnd() * 60);
    for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    r.matchHost(s);
    r.matchAddress(s);
  }
  t.pass('20000 random strings');
});

t.test('built-in data: every file has its source and date, known app ids, no pattern twice', async (t) => {
  const dir = builtinRulesDir();
  const files = fs.readdirSync(dir).filter((n) => n.endsWith('.rules'));
  t.ok(files.length >= 20, `${files.length} files`);
  const known = new Set('whatsapp signal telegram teams skype slack discord zoom messenger kakaotalk qq wechat line viber imo dingtalk google-chat google-meet mumble teamspeak fuze threema webex wire element snapchat'.split(' '));
  const seen = new Map<string, string>();
  for (const name of files) {
    // Read the headers straight from the text, not through the loader under test.
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    t.match(text, /^# source: \S.+$/m, `${name}: # source:`);
    const date = /^# date: (\d{4}-\d{2}-\d{2})$/m.exec(text);
    t.ok(date && !Number.isNaN(Date.parse(date[1]!)), `${name}: # date:`);
    for (const [i, line] of text.split('\n').entries()) {
      const f = line.replace(/#.*/, '').trim().split(/\s+/);
      if (f[0] === '') continue;
      t.ok(known.has(f[2]!), `${name}:${i + 1}: app ${f[2]}`);
      const key = `${f[0] === 'ip' ? 'ip' : 'host'} ${f[1]}`;
      if (seen.has(key)) t.fail(`${name}:${i + 1}: ${key} already in ${seen.get(key)}`);
      seen.set(key, `${name}:${i + 1}`);
    }
  }
  t.same(builtinRuleFiles().map((f) => f.file).sort(), files.map((n) => `data/apps/${n}`).sort(), 'the loader reads every file');
  t.ok(builtinRuleFiles().every((f) => f.sources.length > 0 && f.date !== null));
});

t.test('the data ships with the package', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(builtinRulesDir(), '..', '..', 'package.json'), 'utf8')) as { files: string[] };
  t.ok(pkg.files.includes('data'), 'package.json files has data/');
});

t.test('brief facts about the built-in rules', async (t) => {
  const r = loadAppRules();
  const m = (n: string) => {
    const x = r.matchHost(n);
    return x === null ? null : `${x.app ?? 'SITE'}/${x.kind}`;
  };
  t.equal(m('e12.whatsapp.net'), 'whatsapp/chat');
  t.equal(m('mmg.whatsapp.net'), 'whatsapp/file');
  t.equal(m('web.whatsapp.com'), 'whatsapp/web');
  t.equal(m('www.whatsapp.com'), 'SITE/web');
  t.equal(m('notwhatsapp.net'), null);
  t.equal(m('edge-chat.facebook.com'), 'messenger/chat');
  t.equal(m('facebook.com'), 'SITE/web');
  t.equal(m('www.facebook.com'), 'SITE/web');
  t.equal(m('g-33.0.threema.ch'), 'threema/chat');
  t.equal(m('matrix-client.matrix.org'), 'element/chat');
  t.equal(r.matchAddress('91.108.56.1')?.app, 'telegram');
  t.equal(r.matchAddress('2001:b28:f23d:f001::a')?.app, 'telegram', 'inside 2001:b28:f23c::/47');
  t.equal(r.matchAddress('170.114.10.1')?.app, 'zoom');
  t.equal(r.matchAddress('52.113.255.255')?.app, 'teams');
  t.equal(r.matchAddress('52.116.0.0'), null, 'just after 52.112.0.0/14');
});

/**
 * `imtap directory import/list` end to end, and `resolvePersonSql` on a real capture. Expected values come from the
 * CSV the test writes and, for address ranges, from node's net.BlockList (an independent CIDR implementation) over
 * the accounts' client addresses that the database holds.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { openStore } from '../../src/store/db.js';
import { normalizeIp, normalizeMac, resolvePersonSql } from '../../src/policy/directory.js';
import { imtap } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('directory');
const root = path.resolve(import.meta.dirname, '..', '..');

async function rows(db: string, sql: string): Promise<Record<string, unknown>[]> {
  const q = await imtap(['query', '--db', db, '--format', 'json', sql]);
  if (q.code !== 0) throw new Error(q.stderr);
  return JSON.parse(q.stdout) as Record<string, unknown>[];
}

const CSV = `person,department,account,app,ip,mac
Alice Martin,Finance,alice@example.org,xmpp,,
Alice Martin,Finance,,,10.1.2.0/24,AA-BB-CC-00-11-22
Bob,R&D,bob42,IRC,10.1.2.7,
Bob,R&D,,,2001:DB8:0:0::1,aabb.ccdd.eeff
"=cmd|' /C calc'!A0",,evil,,,
`;

t.test('import, list back, duplicates, replace', async (t) => {
  const db = path.join(dir, 'a.duckdb');
  const csv = path.join(dir, 'people.csv');
  fs.writeFileSync(csv, CSV);
  const r = await imtap(['directory', 'import', '--db', db, csv]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, `${csv}: 8 entries read, 8 added\n`);
  const got = await rows(db, 'SELECT person, department, kind, value, app, source FROM directory ORDER BY person, kind, value');
  t.same(got, [
    { person: "=cmd|' /C calc'!A0", department: null, kind: 'account', value: 'evil', app: null, source: csv },
    { person: 'Alice Martin', department: 'Finance', kind: 'account', value: 'alice@example.org', app: 'xmpp', source: csv },
    { person: 'Alice Martin', department: 'Finance', kind: 'ip', value: '10.1.2.0/24', app: null, source: csv },
    { person: 'Alice Martin', department: 'Finance', kind: 'mac', value: 'aa:bb:cc:00:11:22', app: null, source: csv },
    { person: 'Bob', department: 'R&D', kind: 'account', value: 'bob42', app: 'irc', source: csv },
    { person: 'Bob', department: 'R&D', kind: 'ip', value: '10.1.2.7', app: null, source: csv },
    { person: 'Bob', department: 'R&D', kind: 'ip', value: '2001:db8::1', app: null, source: csv },
    { person: 'Bob', department: 'R&D', kind: 'mac', value: 'aa:bb:cc:dd:ee:ff', app: null, source: csv },
  ]);
  // Again: every entry is an exact duplicate.
  const again = await imtap(['directory', 'import', '--db', db, csv]);
  t.equal(again.stdout, `${csv}: 8 entries read, 0 added, 8 exact duplicates skipped\n`);
  t.equal((await rows(db, 'SELECT count(*) AS n FROM directory'))[0]!.n, 8);
  // Another file adds; --replace of the first replaces only the first's entries.
  const other = path.join(dir, 'more.csv');
  fs.writeFileSync(other, 'person,account\nCarol,carol\n');
  t.equal((await imtap(['directory', 'import', '--db', db, other])).code, 0);
  fs.writeFileSync(csv, 'person,department,ip\nAlice Martin,Legal,10.1.3.0/24\n');
  const rep = await imtap(['directory', 'import', '--replace', '--db', db, csv]);
  t.equal(rep.stdout, `${csv}: 1 entries read, 1 added, 8 earlier entries of this file removed\n`);
  t.same(await rows(db, 'SELECT person, department, value FROM directory ORDER BY person'), [
    { person: 'Alice Martin', department: 'Legal', value: '10.1.3.0/24' },
    { person: 'Carol', department: null, value: 'carol' },
  ]);
  // list in the query formats; a formula-like cell is neutralised in CSV.
  fs.writeFileSync(csv, CSV);
  await imtap(['directory', 'import', '--replace', '--db', db, csv]);
  const list = await imtap(['directory', 'list', '--db', db, '--format', 'csv']);
  t.equal(list.code, 0);
  const lines = list.stdout.trim().split('\n');
  t.equal(lines[0], 'person,department,kind,value,app,source,imported_at');
  t.equal(lines.length, 10);
  t.match(lines[1]!, /^"?'=cmd\|' \/C calc'!A0"?,,account,evil,,/, 'the formula prefix is neutralised');
  const json = JSON.parse((await imtap(['directory', 'list', '--db', db, '--format', 'json'])).stdout) as unknown[];
  t.equal(json.length, 9);
});

t.test('a bad row: file and line, nothing imported, exit 1', async (t) => {
  const db = path.join(dir, 'b.duckdb');
  const good = path.join(dir, 'good.csv');
  fs.writeFileSync(good, 'person,ip\nZed,192.168.0.1\n');
  t.equal((await imtap(['directory', 'import', '--db', db, good])).code, 0);
  const cases: [string, string][] = [
    ['person,ip\nA,10.0.0.1\nB,10.0.0.300\n', ':3: ip: "10.0.0.300" is not an IPv4 or IPv6 address'],
    ['person,ip\nA,10.0.0.1/8\n', ':2: ip: 10.0.0.1/8: the address bits after /8 must be zero'],
    ['person,ip\nA,10.0.0.0/33\n', ':2: ip: prefix length "/33" is not 0 to 32'],
    ['person,ip\nA,2001:db8::/32\n', ':2: ip: 2001:db8::/32: IPv6 ranges are not supported; list the addresses'],
    ['person,mac\nA,aa:bb:cc:dd:ee\n', ':2: mac "aa:bb:cc:dd:ee" is not a MAC address (aa:bb:cc:dd:ee:ff)'],
    ['person,account,app\nA,x,\n,y,\n', ':3: person is empty'],
    ['person,account,app\nA,,irc\n', ':2: no account, ip or mac for A'],
    ['person,account,ip,app\nA,,10.0.0.1,irc\n', ':2: app is given without an account'],
    ['person,account,app\nA,a,Not An App\n', ':2: app "not an app" is not an app id (lower-case letters, digits, - and _)'],
    ['person,email\nA,a@b\n', ':1: unknown column "email" (columns: person, department, account, app, ip, mac)'],
    ['department,account\nX,a\n', ':1: the header has no person column'],
    ['person,department\nA,B\n', ':1: the header needs at least one of account, ip, mac'],
  ];
  for (const [text, msg] of cases) {
    const f = path.join(dir, 'bad.csv');
    fs.writeFileSync(f, text);
    const r = await imtap(['directory', 'import', '--db', db, f]);
    t.equal(r.code, 1, msg);
    t.equal(r.stderr, `imtap: ${f}${msg}\n`);
  }
  const ragged = path.join(dir, 'ragged.csv');
  fs.writeFileSync(ragged, 'person,ip\nA,10.0.0.1\nB,10.0.0.2,extra\n');
  const rr = await imtap(['directory', 'import', '--db', db, ragged]);
  t.equal(rr.code, 1);
  t.match(rr.stderr, new RegExp(`^imtap: ${ragged.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: .*line 3`));
  t.same(await rows(db, 'SELECT person FROM directory'), [{ person: 'Zed' }], 'only the good file is there');
  const none = path.join(dir, 'never.duckdb');
  t.equal((await imtap(['directory', 'import', '--db', none, path.join(dir, 'bad.csv')])).code, 1);
  t.notOk(fs.existsSync(none), 'a bad file does not even create the database');
  t.equal((await imtap(['directory', 'import', '--db', db])).code, 2, 'import without a file is a usage error');
});

t.test('normalisers', async (t) => {
  for (const m of ['AA:BB:CC:DD:EE:FF', 'aa-bb-cc-dd-ee-ff', 'AABB.CCDD.EEFF', 'aabbccddeeff']) t.equal(normalizeMac(m), 'aa:bb:cc:dd:ee:ff', m);
  for (const m of ['aa:bb-cc:dd:ee:ff', 'gg:bb:cc:dd:ee:ff', 'aabbccddeef']) t.equal(normalizeMac(m), null, m);
  t.same(normalizeIp('10.0.0.0/32'), { value: '10.0.0.0' });
  t.same(normalizeIp('10.0.0.5/32'), { value: '10.0.0.5' });
  t.same(normalizeIp('0.0.0.0/0'), { value: '0.0.0.0/0' });
  t.same(normalizeIp('::ffff:1.2.3.4'), { value: '::ffff:102:304' });
});

t.test('resolvePersonSql on a real capture: account first, then the longest IPv4 prefix (as net.BlockList says)', async (t) => {
  const db = path.join(dir, 'r.duckdb');
  const caps = ['irc/irc-privmsg.pcap', 'irc/irc-basic.pcap', 'msnp/' + fs.readdirSync(path.join(root, 'fixtures/pcaps/msnp'))[0]].map((c) => path.join(root, 'fixtures/pcaps', c));
  t.equal((await imtap(['ingest', '--db', db, ...caps])).code, 0);
  const accounts = await rows(db, "SELECT DISTINCT account, app, client_ip FROM accounts WHERE client_ip LIKE '%.%' ORDER BY ALL");
  t.ok(accounts.length >= 2, `${accounts.length} accounts with IPv4 client addresses`);
  const [first] = accounts as { account: string; app: string; client_ip: string }[];
  // A /16 for everyone, a /24 for another person inside it, and the first account by name for a third.
  const ip0 = first!.client_ip.split('.').map(Number);
  const net16 = `${ip0[0]}.${ip0[1]}.0.0/16`;
  const net24 = `${ip0[0]}.${ip0[1]}.${ip0[2]}.0/24`;
  const csv = path.join(dir, 'r.csv');
  fs.writeFileSync(csv, `person,department,account,app,ip\nWide,Ops,,,${net16}\nNarrow,Sec,,,${net24}\nNamed,Sales,${first!.account.toUpperCase()},${first!.app},\n`);
  t.equal((await imtap(['directory', 'import', '--db', db, csv])).code, 0);
  const b16 = new net.BlockList();
  b16.addSubnet(`${ip0[0]}.${ip0[1]}.0.0`, 16);
  const b24 = new net.BlockList();
  b24.addSubnet(`${ip0[0]}.${ip0[1]}.${ip0[2]}.0`, 24);
  const store = await openStore(db, { readOnly: true });
  try {
    const who = resolvePersonSql({ account: 'a.account', app: 'a.app', ip: 'a.client_ip' });
    const r = await store.connection.runAndReadAll(`SELECT DISTINCT a.account, a.app, a.client_ip, ${who.person} AS person, ${who.department} AS department FROM accounts a WHERE a.client_ip LIKE '%.%' ORDER BY ALL`);
    const got = r.getRowObjectsJson() as { account: string; app: string; client_ip: string; person: string | null; department: string | null }[];
    t.equal(got.length, accounts.length);
    for (const g of got) {
      const expected =
        g.account.toLowerCase() === first!.account.toLowerCase() && g.app === first!.app
          ? ['Named', 'Sales']
          : b24.check(g.client_ip)
            ? ['Narrow', 'Sec']
            : b16.check(g.client_ip)
              ? ['Wide', 'Ops']
              : [null, null];
      t.same([g.person, g.department], expected, `${g.account} (${g.app}) from ${g.client_ip}`);
    }
    // The expression on literal values: IPv6 exact, garbage, an address just outside the /16.
    const lit = async (ip: string) => (await store.connection.runAndReadAll(`SELECT ${resolvePersonSql({ account: 'NULL', app: 'NULL', ip: `'${ip}'` }).person} AS p`)).getRowObjectsJson()[0]!.p;
    t.equal(await lit(`${ip0[0]}.${ip0[1]}.255.255`), 'Wide');
    t.equal(await lit(`${ip0[0]}.${(ip0[1]! + 1) % 256}.0.1`), null);
    t.equal(await lit('not an address'), null);
  } finally {
    store.close();
  }
});

// Report filters: times (absolute and relative, edges, bad values), filter parsing, directory matching, SQL fragments.
import t from 'tap';
import { Directory, FilterError, nsToIso, Params, parseFilters, parseTime, scopeWhere, type Scope } from '../../src/report/filters.js';

const NOW = BigInt(Date.UTC(2024, 4, 10, 12, 0, 0)) * 1_000_000n;
const ms = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

t.test('absolute times: UTC unless an offset is given, full precision', async (t) => {
  t.equal(parseTime('2024-05-01', NOW), ms('2024-05-01T00:00:00Z'));
  t.equal(parseTime('2024-05-01T12:30', NOW), ms('2024-05-01T12:30:00Z'));
  t.equal(parseTime('2024-05-01 12:30:15', NOW), ms('2024-05-01T12:30:15Z'));
  t.equal(parseTime('2024-05-01T12:30:15Z', NOW), ms('2024-05-01T12:30:15Z'));
  t.equal(parseTime('2024-05-01T12:30:15+02:00', NOW), ms('2024-05-01T10:30:15Z'));
  t.equal(parseTime('2024-05-01T12:30:15-0530', NOW), ms('2024-05-01T18:00:15Z'));
  t.equal(parseTime('2024-05-01T00:00:00.123456789Z', NOW), ms('2024-05-01T00:00:00Z') + 123_456_789n);
  t.equal(parseTime('2024-05-01T00:00:00.5Z', NOW), ms('2024-05-01T00:00:00Z') + 500_000_000n);
  t.equal(parseTime('2024-02-29', NOW), ms('2024-02-29T00:00:00Z'), 'a leap day');
  t.equal(nsToIso(parseTime('2006-12-29T02:27:44.069648000Z', NOW)), '2006-12-29T02:27:44.069648000Z', 'round trip');
  t.equal(nsToIso(ms('2024-05-01T00:00:00Z'), true), '2024-05-01T00:00:00Z');
});

t.test('relative times count back from now', async (t) => {
  t.equal(parseTime('90m', NOW), NOW - 90n * 60n * 1_000_000_000n);
  t.equal(parseTime('24h', NOW), ms('2024-05-09T12:00:00Z'));
  t.equal(parseTime('7d', NOW), ms('2024-05-03T12:00:00Z'));
  t.equal(parseTime('2w', NOW), ms('2024-04-26T12:00:00Z'));
});

t.test('bad times are refused, naming the accepted forms', async (t) => {
  for (const bad of ['yesterday', '2024-13-01', '2024-02-30', '2023-02-29', '2024-05-01T25:00', '2024-05-01T12:60', '7x', '-7d', '', '2024-05-01T12:00+25:00', '1714564800']) {
    t.throws(() => parseTime(bad, NOW), FilterError, bad);
  }
  try {
    parseTime('last week', NOW, '--until');
  } catch (e) {
    t.match((e as Error).message, /^--until "last week" is not a time: give an ISO 8601 date or date-time .* or a time before now \(90m, 24h, 7d, 2w\)/);
  }
});

t.test('parseFilters: apps split and lower-cased, empty periods and two text filters refused', async (t) => {
  const f = parseFilters({ since: '2024-05-01', until: '2024-05-02', app: ['MSN,yahoo', 'msn'], user: 'bob' }, NOW);
  t.same(f.apps, ['msn', 'yahoo']);
  t.equal(f.until! - f.since!, 86_400_000_000_000n);
  t.equal(f.user, 'bob');
  t.throws(() => parseFilters({ since: '2024-05-02', until: '2024-05-01' }, NOW), /is not before --until/);
  t.throws(() => parseFilters({ since: '2024-05-02', until: '2024-05-02' }, NOW), /is not before --until/);
  t.throws(() => parseFilters({ grep: 'a', regex: 'b' }, NOW), /not both/);
});

t.test('directory: accounts by app or any app (any case), addresses exactly or by range', async (t) => {
  const dir = new Directory([
    { person: 'Ann', department: 'Sales', kind: 'account', value: 'Ann@Example.com', app: 'msn' },
    { person: 'Bob', department: 'Ops', kind: 'account', value: 'ann@example.com', app: null },
    { person: 'Cid', department: null, kind: 'ip', value: '10.1.0.0/16', app: null },
    { person: 'Dee', department: null, kind: 'ip', value: '10.1.2.3', app: null },
    { person: 'Eve', department: null, kind: 'ip', value: '2001:db8::/32', app: null },
    { person: 'Fay', department: null, kind: 'mac', value: '00:11:22:33:44:55', app: null },
  ]);
  t.equal(dir.account('msn', 'ann@example.com')?.person, 'Ann', 'the entry for the app wins');
  t.equal(dir.account('xmpp', 'ANN@example.com')?.person, 'Bob', 'else the entry for any app');
  t.equal(dir.account('msn', 'other'), null);
  t.equal(dir.address('10.1.2.3')?.person, 'Dee', 'an exact address before a range');
  t.equal(dir.address('10.1.200.9')?.person, 'Cid');
  t.equal(dir.address('10.2.0.1'), null);
  t.equal(dir.address('2001:db8:1::5')?.person, 'Eve');
  t.equal(dir.address('not an address'), null);
  t.equal(dir.personOf('msn', 'ann@example.com', '10.1.2.3')?.person, 'Ann', 'the account before the address');
  t.equal(dir.personOf('msn', null, '10.1.2.3')?.person, 'Dee');
  t.notOk(new Directory([]).address('10.0.0.1'));
});

t.test('SQL fragments: every user value is a parameter', async (t) => {
  const hostile = "x' OR 1=1 --";
  const filters = parseFilters({ since: '2024-05-01', app: [hostile], sensor: hostile, user: hostile }, NOW);
  const scope: Scope = {
    filters,
    user: { ips: [hostile], anyApp: [hostile], byApp: [] },
    department: null,
    directory: new Directory([]),
    now: NOW,
  };
  const q = new Params();
  const w = scopeWhere(q, scope, { table: 'messages', people: ['sender'] }, 'm');
  t.notMatch(w, /OR 1=1/, 'no value in the SQL text');
  t.equal((w.match(/\?/g) ?? []).length, q.values.length, 'one placeholder per value');
  t.ok(q.values.includes(hostile.toLowerCase()) && q.values.includes(hostile));
  const empty = new Params();
  t.equal(scopeWhere(empty, { ...scope, filters: parseFilters({}, NOW), user: null }, { table: 'flows' }, 'f'), 'TRUE');
  t.equal(empty.in('x', []), 'FALSE', 'an empty list matches nothing');
});

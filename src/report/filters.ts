/**
 * The filters every report takes (`--since/--until/--app/--user/--department/--sensor`): parsing the command line
 * values, resolving `--user` and `--department` through the directory, and turning the result into SQL WHERE
 * fragments with parameters. Values the user typed only ever reach SQL as parameters (`?`); the fragments' shape
 * (how many placeholders) is the only thing built from them.
 */
import net from 'node:net';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Filters } from './model.js';

/** A filter value that cannot be understood: the CLI says so and exits 2. */
export class FilterError extends Error {
  override name = 'FilterError';
}

const NS_PER: Record<string, bigint> = {
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
  w: 604_800_000_000_000n,
};

export const TIME_FORMS =
  'an ISO 8601 date or date-time (2024-05-01, 2024-05-01T12:00, 2024-05-01T12:00:00.5+02:00; UTC unless an offset is given) or a time before now (90m, 24h, 7d, 2w)';

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * A `--since`/`--until` value as nanoseconds since the epoch: ISO 8601 (UTC unless an offset is given) or relative
 * to `now` (`90m`, `24h`, `7d`, `2w`, and `30s`). Throws FilterError naming the accepted forms.
 */
export function parseTime(value: string, now: bigint, option = '--since'): bigint {
  const v = value.trim();
  const rel = /^(\d{1,9})([smhdw])$/i.exec(v);
  if (rel) return now - BigInt(rel[1]!) * NS_PER[rel[2]!.toLowerCase()]!;
  const m = ISO.exec(v);
  const bad = () => new FilterError(`${option} ${JSON.stringify(value)} is not a time: give ${TIME_FORMS}`);
  if (!m) throw bad();
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const Y = Number(y), M = Number(mo), D = Number(d), H = Number(h), MI = Number(mi), S = Number(s);
  if (M < 1 || M > 12 || D < 1 || D > 31 || H > 23 || MI > 59 || S > 59) throw bad();
  const ms = Date.UTC(Y, M - 1, D, H, MI, S);
  const check = new Date(ms);
  // 2024-02-30 would roll over to March: refuse it rather than guess.
  if (check.getUTCFullYear() !== Y || check.getUTCMonth() !== M - 1 || check.getUTCDate() !== D) throw bad();
  let ns = BigInt(ms) * 1_000_000n + BigInt(frac.padEnd(9, '0') || '0');
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) throw bad();
    const oh = Number(z[2]), om = Number(z[3] ?? '0');
    if (oh > 23 || om > 59) throw bad();
    const off = BigInt(oh * 60 + om) * NS_PER.m!;
    // 12:00+02:00 is 10:00Z.
    ns = z[1] === '+' ? ns - off : ns + off;
  }
  return ns;
}

/** What the CLI passes in: the options as typed. */
export interface FilterArgs {
  since?: string | null;
  until?: string | null;
  app?: string[] | null;
  user?: string | null;
  department?: string | null;
  sensor?: string | null;
  grep?: string | null;
  regex?: string | null;
}

/** The command line's filter options as `Filters`; throws FilterError for a bad time or an empty period. */
export function parseFilters(args: FilterArgs, now: bigint): Filters {
  const since = args.since ? parseTime(args.since, now, '--since') : null;
  const until = args.until ? parseTime(args.until, now, '--until') : null;
  if (since !== null && until !== null && since >= until) {
    throw new FilterError(`--since ${JSON.stringify(args.since)} is not before --until ${JSON.stringify(args.until)}`);
  }
  const apps = (args.app ?? [])
    .flatMap((a) => a.split(','))
    .map((a) => a.trim().toLowerCase())
    .filter((a) => a !== '');
  if (args.grep && args.regex) throw new FilterError('give --grep or --regex, not both');
  return {
    since,
    until,
    apps: [...new Set(apps)],
    user: args.user || null,
    department: args.department || null,
    sensor: args.sensor || null,
    grep: args.grep || null,
    regex: args.regex || null,
  };
}

/** ISO 8601 UTC text of nanoseconds since the epoch: nine fractional digits, or (`short`) only when not zero. */
export function nsToIso(ns: bigint, short = false): string {
  let sec = ns / 1_000_000_000n;
  let rem = ns % 1_000_000_000n;
  if (rem < 0n) {
    rem += 1_000_000_000n;
    sec -= 1n;
  }
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return rem === 0n && short ? `${base}Z` : `${base}.${String(rem).padStart(9, '0')}Z`;
}

/** The filters as people read them, for a report's heading. */
export function describeFilters(f: Filters, given: FilterArgs = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const rel = (v: string | null | undefined) => (v && /^\d+[smhdw]$/i.test(v.trim()) ? `${v.trim()} ago, ` : '');
  if (f.since !== null) out.since = `${rel(given.since)}${nsToIso(f.since, true)}`;
  if (f.until !== null) out.until = `${rel(given.until)}${nsToIso(f.until, true)}`;
  if (f.apps.length > 0) out.app = f.apps.join(', ');
  if (f.user) out.user = f.user;
  if (f.department) out.department = f.department;
  if (f.sensor) out.sensor = f.sensor;
  if (f.grep) out.grep = f.grep;
  if (f.regex) out.regex = f.regex;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The directory and who a filter names

export interface DirectoryEntry {
  person: string;
  department: string | null;
  kind: string;
  value: string;
  app: string | null;
}

/**
 * The directory loaded once per report: accounts by lower-case name, addresses exactly and by CIDR range. MAC
 * entries are kept but name nothing yet (no table stores client MACs).
 */
export class Directory {
  readonly entries: DirectoryEntry[];
  private readonly accounts = new Map<string, DirectoryEntry[]>();
  private readonly ips = new Map<string, DirectoryEntry>();
  private readonly ranges: { list: net.BlockList; entry: DirectoryEntry }[] = [];

  constructor(entries: DirectoryEntry[]) {
    this.entries = entries;
    for (const e of entries) {
      if (e.kind === 'account') {
        const k = e.value.toLowerCase();
        const l = this.accounts.get(k) ?? [];
        l.push(e);
        this.accounts.set(k, l);
      } else if (e.kind === 'ip') {
        const range = parseRange(e.value);
        if (range) this.ranges.push({ list: range, entry: e });
        else if (!this.ips.has(normIp(e.value))) this.ips.set(normIp(e.value), e);
      }
    }
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** The entry naming an account of an app (an entry for that app wins over one for any app). */
  account(app: string | null, account: string | null): DirectoryEntry | null {
    if (!account) return null;
    const l = this.accounts.get(account.toLowerCase());
    if (!l) return null;
    const a = app?.toLowerCase() ?? null;
    return l.find((e) => e.app !== null && e.app.toLowerCase() === a) ?? l.find((e) => e.app === null) ?? null;
  }

  /** The entry naming a client address, exactly or by range (the first range listed wins). */
  address(ip: string | null): DirectoryEntry | null {
    if (!ip) return null;
    const exact = this.ips.get(normIp(ip));
    if (exact) return exact;
    const family = net.isIPv6(ip) ? 'ipv6' : net.isIPv4(ip) ? 'ipv4' : null;
    if (!family) return null;
    for (const r of this.ranges) if (r.list.check(ip, family)) return r.entry;
    return null;
  }

  /** Who a flow's client is: the account's entry first (people move between machines), else the address's. */
  personOf(app: string | null, account: string | null, ip: string | null): DirectoryEntry | null {
    return this.account(app, account) ?? this.address(ip);
  }
}

const normIp = (ip: string) => ip.trim().toLowerCase();

function parseRange(v: string): net.BlockList | null {
  const m = /^(.+)\/(\d{1,3})$/.exec(v.trim());
  if (!m) return null;
  const ip = m[1]!;
  const bits = Number(m[2]);
  const family = net.isIPv6(ip) ? 'ipv6' : net.isIPv4(ip) ? 'ipv4' : null;
  if (!family || bits > (family === 'ipv4' ? 32 : 128)) return null;
  const list = new net.BlockList();
  list.addSubnet(ip, bits, family);
  return list;
}

export async function loadDirectory(conn: DuckDBConnection): Promise<Directory> {
  const r = await conn.runAndReadAll('SELECT person, department, kind, value, app FROM directory ORDER BY person, kind, value');
  return new Directory(
    (r.getRowsJson() as (string | null)[][]).map(([person, department, kind, value, app]) => ({
      person: person ?? '',
      department: department ?? null,
      kind: kind ?? '',
      value: value ?? '',
      app: app ?? null,
    })),
  );
}

/** Who a `--user` or `--department` filter names: client addresses and accounts (lower-case), for SQL. */
export interface Principals {
  ips: string[];
  /** Accounts of any app. */
  anyApp: string[];
  /** `app NUL account` for accounts of one app. */
  byApp: string[];
}

/**
 * `--user U`: the directory person U (their accounts and addresses; ranges expanded to the client addresses seen
 * in flows), plus the account U of any app and the client address U. `--department D`: every person of D.
 */
export async function resolvePrincipals(conn: DuckDBConnection, dir: Directory, f: Filters): Promise<{ user: Principals | null; department: Principals | null }> {
  let clientIps: string[] | null = null;
  const ipsSeen = async () => {
    if (clientIps === null) {
      const r = await conn.runAndReadAll('SELECT DISTINCT client_ip FROM flows UNION SELECT DISTINCT client_ip FROM accounts WHERE client_ip IS NOT NULL');
      clientIps = (r.getRowsJson() as string[][]).map((row) => row[0]!);
    }
    return clientIps;
  };
  const of = async (entries: DirectoryEntry[], literal: string | null): Promise<Principals> => {
    const p = { ips: new Set<string>(), anyApp: new Set<string>(), byApp: new Set<string>() };
    if (literal !== null) {
      p.ips.add(literal.trim());
      p.anyApp.add(literal.toLowerCase());
    }
    const ranges: net.BlockList[] = [];
    for (const e of entries) {
      if (e.kind === 'account') {
        if (e.app) p.byApp.add(`${e.app.toLowerCase()}\u0000${e.value.toLowerCase()}`);
        else p.anyApp.add(e.value.toLowerCase());
      } else if (e.kind === 'ip') {
        const r = parseRange(e.value);
        if (r) ranges.push(r);
        else p.ips.add(e.value.trim());
      }
    }
    if (ranges.length > 0) {
      for (const ip of await ipsSeen()) {
        const family = net.isIPv6(ip) ? 'ipv6' : 'ipv4';
        if (ranges.some((r) => r.check(ip, family))) p.ips.add(ip);
      }
    }
    return { ips: [...p.ips], anyApp: [...p.anyApp], byApp: [...p.byApp] };
  };
  const user = f.user ? await of(dir.entries.filter((e) => e.person.toLowerCase() === f.user!.toLowerCase()), f.user) : null;
  const department = f.department
    ? await of(dir.entries.filter((e) => e.department !== null && e.department.toLowerCase() === f.department!.toLowerCase()), null)
    : null;
  return { user, department };
}

// ---------------------------------------------------------------------------------------------------------------
// SQL

/** Parameters collected while a query is put together; `p(v)` returns the placeholder for one more value. */
export class Params {
  readonly values: (string | number | bigint | boolean | null)[] = [];
  p(v: string | number | bigint | boolean | null): string {
    this.values.push(v);
    return '?';
  }
  /** `x IN (?, ?…)`, or FALSE for an empty list (IN () is not SQL). */
  in(expr: string, list: readonly string[]): string {
    if (list.length === 0) return 'FALSE';
    return `${expr} IN (${list.map((v) => this.p(v)).join(', ')})`;
  }
}

/** The filters with `--user`/`--department` resolved: what every report's WHERE clauses come from. */
export interface Scope {
  filters: Filters;
  user: Principals | null;
  department: Principals | null;
  directory: Directory;
  /** "Now" for this run (nanoseconds): the end of an open period. */
  now: bigint;
}

/** How a table is filtered. */
export interface TableSpec {
  /** flows: the period overlaps the flow (start before the end, end after the start); others: `ts` in the period. */
  table: 'flows' | 'accounts' | 'messages' | 'transfers' | 'alerts' | 'events' | 'contacts';
  /** Columns naming accounts that a user filter also matches (messages: sender and recipient). */
  people?: string[];
}

export interface WhereOptions {
  /** Another period instead of the filters' (the previous period of `summary`). */
  since?: bigint | null;
  until?: bigint | null;
  /** Leave out `--app` (a share of unidentified flows means nothing within one app). */
  ignoreApps?: boolean;
}

function accountMatch(q: Params, p: Principals, app: string, account: string): string {
  const parts = [q.in(`lower(${account})`, p.anyApp)];
  if (p.byApp.length > 0) parts.push(q.in(`lower(${app}) || chr(0) || lower(${account})`, p.byApp));
  return `(${parts.join(' OR ')})`;
}

function principalMatch(q: Params, p: Principals, alias: string, spec: TableSpec): string {
  const ors: string[] = [];
  if (spec.table === 'flows') ors.push(q.in(`${alias}.client_ip`, p.ips));
  else ors.push(`EXISTS (SELECT 1 FROM flows uf WHERE uf.capture_id = ${alias}.capture_id AND uf.flow_id = ${alias}.flow_id AND ${q.in('uf.client_ip', p.ips)})`);
  ors.push(
    `EXISTS (SELECT 1 FROM accounts ua WHERE ua.capture_id = ${alias}.capture_id AND ua.flow_id = ${alias}.flow_id AND ua.side IS DISTINCT FROM 'server' AND ${accountMatch(q, p, 'ua.app', 'ua.account')})`,
  );
  for (const c of spec.people ?? []) ors.push(accountMatch(q, p, `${alias}.app`, `${alias}.${c}`));
  return `(${ors.join(' OR ')})`;
}

/**
 * The WHERE conditions (joined by AND, `TRUE` when none) that restrict `alias` (a row of `spec.table`) to the scope.
 */
export function scopeWhere(q: Params, scope: Scope, spec: TableSpec, alias: string, opts: WhereOptions = {}): string {
  const f = scope.filters;
  const since = opts.since !== undefined ? opts.since : f.since;
  const until = opts.until !== undefined ? opts.until : f.until;
  const and: string[] = [];
  if (spec.table === 'flows') {
    if (since !== null) and.push(`${alias}.ts_end >= make_timestamp_ns(${q.p(since)}::BIGINT)`);
    if (until !== null) and.push(`${alias}.ts_start < make_timestamp_ns(${q.p(until)}::BIGINT)`);
  } else {
    if (since !== null) and.push(`${alias}.ts >= make_timestamp_ns(${q.p(since)}::BIGINT)`);
    if (until !== null) and.push(`${alias}.ts < make_timestamp_ns(${q.p(until)}::BIGINT)`);
  }
  if (f.apps.length > 0 && !opts.ignoreApps) and.push(q.in(`lower(${alias}.app)`, f.apps));
  if (f.sensor !== null) and.push(`${alias}.capture_id IN (SELECT capture_id FROM captures WHERE sensor = ${q.p(f.sensor)})`);
  if (scope.user) and.push(principalMatch(q, scope.user, alias, spec));
  if (scope.department) and.push(principalMatch(q, scope.department, alias, spec));
  return and.length === 0 ? 'TRUE' : and.join(' AND ');
}

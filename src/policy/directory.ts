/**
 * The directory: who is who. `imtap directory import people.csv` reads a CSV (header: person, department, and any
 * of account, app, ip, mac; docs/reports.md, "Directory") into the `directory` table, one row per account, address
 * or MAC of a person; reports group by person and department through `resolvePersonSql`.
 *
 * CIDR matching is done in SQL on IPv4 addresses converted to integers (`ipv4IntSql`): DuckDB's `inet` extension
 * cannot be loaded offline (db.ts never installs extensions), and expanding ranges in JS would write 2^(32-n) rows
 * for a /n. IPv6 entries are single addresses, compared as canonical text (RFC 5952, as `flows.client_ip` has them);
 * an IPv6 range is refused at import.
 */
import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import type { SqlStore } from '../store/local-store.js';

export const DIRECTORY_COLUMNS = ['person', 'department', 'account', 'app', 'ip', 'mac'] as const;

export interface DirectoryEntry {
  person: string;
  department: string | null;
  kind: 'account' | 'ip' | 'mac';
  value: string;
  app: string | null;
}

export class DirectoryError extends Error {
  override name = 'DirectoryError';
}

/** `a.b.c.d` or `a.b.c.d/n` (host bits zero), or an IPv6 address; the canonical text, or an error. */
export function normalizeIp(text: string): { value: string } | { error: string } {
  const [addr, prefix, extra] = text.split('/');
  if (extra !== undefined) return { error: `"${text}" is not an address or CIDR range` };
  if (net.isIPv4(addr!)) {
    const n = addr!.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    if (prefix === undefined) return { value: addr! };
    if (!/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) return { error: `prefix length "/${prefix}" is not 0 to 32` };
    const bits = Number(prefix);
    const host = bits === 32 ? 0 : n % 2 ** (32 - bits);
    if (host !== 0) return { error: `${text}: the address bits after /${bits} must be zero` };
    return { value: bits === 32 ? addr! : `${addr}/${bits}` };
  }
  if (net.isIPv6(addr!)) {
    if (prefix !== undefined && prefix !== '128') return { error: `${text}: IPv6 ranges are not supported; list the addresses` };
    return { value: new URL(`http://[${addr}]/`).hostname.slice(1, -1) };
  }
  return { error: `"${text}" is not an IPv4 or IPv6 address` };
}

/** A MAC address in any common spelling (`AA-BB-…`, `aabb.ccdd.eeff`, `aabbccddeeff`) as `aa:bb:cc:dd:ee:ff`. */
export function normalizeMac(text: string): string | null {
  const hex = text.trim().toLowerCase();
  let digits: string;
  if (/^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/.test(hex)) digits = hex.replace(/[:-]/g, '');
  else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(hex)) digits = hex.replace(/\./g, '');
  else if (/^[0-9a-f]{12}$/.test(hex)) digits = hex;
  else return null;
  return digits.match(/../g)!.join(':');
}

const APP_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * The entries of a directory CSV's text; `name` is used in errors (`people.csv:7: …`). Every row is checked before
 * any is returned, so a bad row means nothing is imported.
 */
export async function parseDirectoryCsv(text: string, name: string): Promise<DirectoryEntry[]> {
  const { parse } = await import('csv-parse/sync');
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      columns: (header: string[]) => {
        const cols = header.map((h) => h.trim().toLowerCase());
        const unknown = cols.find((c) => !(DIRECTORY_COLUMNS as readonly string[]).includes(c));
        if (unknown !== undefined) throw new DirectoryError(`${name}:1: unknown column "${unknown}" (columns: ${DIRECTORY_COLUMNS.join(', ')})`);
        if (!cols.includes('person')) throw new DirectoryError(`${name}:1: the header has no person column`);
        if (!cols.some((c) => c === 'account' || c === 'ip' || c === 'mac')) throw new DirectoryError(`${name}:1: the header needs at least one of account, ip, mac`);
        const dup = cols.find((c, i) => cols.indexOf(c) !== i);
        if (dup !== undefined) throw new DirectoryError(`${name}:1: column "${dup}" appears twice`);
        return cols;
      },
      info: true,
      bom: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: false,
    }) as unknown as { record: Record<string, string>; info: { lines: number } }[];
  } catch (e) {
    if (e instanceof DirectoryError) throw e;
    const err = e as Error & { lines?: number };
    // csv-parse's messages name the line already ("Invalid Record Length: … on line 4").
    throw new DirectoryError(`${name}${err.lines !== undefined ? `:${err.lines}` : ''}: ${err.message}`);
  }
  const out: DirectoryEntry[] = [];
  for (const { record, info } of records) {
    const fail = (what: string): never => {
      throw new DirectoryError(`${name}:${info.lines}: ${what}`);
    };
    const get = (c: string) => {
      const v = record[c];
      return v === undefined || v === '' ? null : v;
    };
    const person = get('person') ?? fail('person is empty');
    const department = get('department');
    const account = get('account');
    const app = get('app')?.toLowerCase() ?? null;
    const ip = get('ip');
    const mac = get('mac');
    if (account === null && ip === null && mac === null) fail(`no account, ip or mac for ${person}`);
    if (app !== null && account === null) fail('app is given without an account');
    if (app !== null && !APP_ID.test(app)) fail(`app "${app}" is not an app id (lower-case letters, digits, - and _)`);
    if (account !== null) out.push({ person, department, kind: 'account', value: account, app });
    if (ip !== null) {
      const r = normalizeIp(ip);
      if ('error' in r) fail(`ip: ${r.error}`);
      else out.push({ person, department, kind: 'ip', value: r.value, app: null });
    }
    if (mac !== null) {
      const m = normalizeMac(mac) ?? fail(`mac "${mac}" is not a MAC address (aa:bb:cc:dd:ee:ff)`);
      out.push({ person, department, kind: 'mac', value: m, app: null });
    }
  }
  return out;
}

/** What `directory.source` holds for a file: its absolute path (so that --replace finds the same file's entries). */
export const directorySource = (file: string): string => path.resolve(file);

export interface ImportResult {
  source: string;
  /** Entries read from the file. */
  read: number;
  inserted: number;
  /** Exact duplicates (of the table or of earlier rows of the file) left out. */
  skipped: number;
  /** Entries of the same source removed first (--replace). */
  removed: number;
}

/** Imports `file` into the directory in one transaction: all its entries or none. */
export async function importDirectory(conn: SqlStore, file: string, opts: { replace?: boolean } = {}): Promise<ImportResult> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DirectoryError(`${file}: cannot read the directory file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const entries = await parseDirectoryCsv(text, file);
  const source = directorySource(file);
  await conn.run('BEGIN TRANSACTION');
  try {
    let removed = 0;
    if (opts.replace) {
      removed = Number((await conn.query('SELECT count(*) AS n FROM directory WHERE source = ?', [source]))[0]!.n);
      await conn.run('DELETE FROM directory WHERE source = ?', [source]);
    }
    const before = Number((await conn.query('SELECT count(*) AS n FROM directory'))[0]!.n);
    // Row by row, each skipped when an identical entry (whatever its source) is already there.
    const same = 'person = ? AND department IS NOT DISTINCT FROM ? AND kind = ? AND value = ? AND app IS NOT DISTINCT FROM ?';
    for (const e of entries) {
      const p = [e.person, e.department, e.kind, e.value, e.app];
      await conn.run(`INSERT INTO directory (person, department, kind, value, app, source, imported_at) SELECT ?, ?, ?, ?, ?, ?, now()::TIMESTAMP_NS WHERE NOT EXISTS (SELECT 1 FROM directory WHERE ${same})`, [...p, source, ...p]);
    }
    const inserted = Number((await conn.query('SELECT count(*) AS n FROM directory'))[0]!.n) - before;
    await conn.run('COMMIT');
    return { source, read: entries.length, inserted, skipped: entries.length - inserted, removed };
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => {});
    throw e;
  }
}

/** SQL: an IPv4 address (text expression) as a BIGINT; NULL for anything else (IPv6, garbage). */
export function ipv4IntSql(expr: string): string {
  const octet = (i: number) => `TRY_CAST(split_part(${expr}, '.', ${i}) AS BIGINT)`;
  return `(CASE WHEN regexp_full_match(${expr}, '\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}') THEN ${octet(1)} * 16777216 + ${octet(2)} * 65536 + ${octet(3)} * 256 + ${octet(4)} END)`;
}

/**
 * SQL expressions mapping an account (with its app) and a client address to the person and department of the
 * directory. Arguments are SQL expressions (column names such as `a.account`, `a.app`, `f.client_ip`; pass `NULL`
 * for one that is not known). The account is tried first (compared without case; an entry for the same app beats
 * one for any app), then the address (an exact address, else the longest IPv4 prefix that contains it). Person and
 * department come from the same directory row. Each is a correlated scalar subquery, usable in SELECT, WHERE and
 * GROUP BY:
 *
 *   const who = resolvePersonSql({ account: 'a.account', app: 'a.app', ip: 'a.client_ip' });
 *   `SELECT ${who.person} AS person, ${who.department} AS department, count(*) FROM accounts a GROUP BY ALL`
 */
export function resolvePersonSql(cols: { account: string; app: string; ip: string }): { person: string; department: string } {
  const byAccount = (field: string) =>
    `(SELECT d.${field} FROM directory d WHERE d.kind = 'account' AND lower(d.value) = lower(${cols.account}) AND (d.app IS NULL OR d.app = lower(${cols.app})) ORDER BY d.app IS NULL, d.person, d.department LIMIT 1)`;
  const ipInt = ipv4IntSql(`(${cols.ip})`);
  const netInt = ipv4IntSql(`split_part(d.value, '/', 1)`);
  const prefix = `coalesce(TRY_CAST(nullif(split_part(d.value, '/', 2), '') AS BIGINT), 32)`;
  const byIp = (field: string) =>
    `(SELECT d.${field} FROM directory d WHERE d.kind = 'ip' AND (d.value = (${cols.ip}) OR (${ipInt} IS NOT NULL AND ${netInt} IS NOT NULL AND (${ipInt} // (CAST(1 AS BIGINT) << (32 - ${prefix}))) = (${netInt} // (CAST(1 AS BIGINT) << (32 - ${prefix}))))) ORDER BY ${prefix} DESC, d.person, d.department LIMIT 1)`;
  return {
    person: `coalesce(${byAccount('person')}, ${byIp('person')})`,
    department: `CASE WHEN ${byAccount('person')} IS NOT NULL THEN ${byAccount('department')} ELSE ${byIp('department')} END`,
  };
}

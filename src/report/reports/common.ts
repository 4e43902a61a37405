/**
 * What the reports share: running a parameterised query into typed cells, and who the IM users are (the directory's
 * people, else client addresses), which `summary` and `users` both count.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { nsToIso, Params, scopeWhere, type Scope } from '../filters.js';
import type { Cell, CellType, Column, Section } from '../model.js';

export interface ReportContext {
  conn: DuckDBConnection;
  scope: Scope;
  /** `--limit`: conversations shown (conversations), rows listed (messages, transfers, alerts); null: the default. */
  limit: number | null;
}

export interface ReportDef {
  name: string;
  title: string;
  /** One line for `imtap report --help` and docs. */
  description: string;
  run(ctx: ReportContext): Promise<Section[]>;
}

export const col = (name: string, title: string, type: CellType): Column => ({ name, title, type });

type Raw = string | number | boolean | null;

/** Runs `sql` with its parameters; rows as JSON-like values (BIGINT as decimal text). */
export async function rawRows(ctx: ReportContext, sql: string, q: Params): Promise<Raw[][]> {
  const r = await ctx.conn.runAndReadAll(sql, q.values as never);
  return r.getRowsJson() as Raw[][];
}

/** A value as the column's type: times come from SQL as `epoch_ns(...)` and become ISO 8601 UTC text. */
export function cell(v: Raw | undefined, type: CellType): Cell {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'time':
      return nsToIso(BigInt(v as string | number));
    case 'int':
    case 'bytes':
    case 'float':
    case 'percent':
      return Number(v);
    case 'bool':
      return Boolean(v);
    case 'text':
      return String(v);
  }
}

/** Runs a query whose select list matches `columns`, one for one. */
export async function typedRows(ctx: ReportContext, columns: Column[], sql: string, q: Params): Promise<Cell[][]> {
  return (await rawRows(ctx, sql, q)).map((r) => columns.map((c, i) => cell(r[i], c.type)));
}

export const DEFAULT_LIST_LIMIT = 1000;

/** `--limit` or the default, for the reports that list rows. */
export const listLimit = (ctx: ReportContext) => ctx.limit ?? DEFAULT_LIST_LIMIT;

// ---------------------------------------------------------------------------------------------------------------
// IM users

/** One IM user: a directory person, or (no directory entry names them) a client address. */
export interface ImUser {
  user: string;
  department: string | null;
  kind: 'person' | 'address';
  addresses: Set<string>;
  apps: Set<string>;
  accounts: Set<string>;
  first: bigint;
  last: bigint;
  sessions: number;
  messages: number;
  transfers: number;
  bytes: number;
}

/**
 * The IM users of the scope. Each IM flow (flows.app not null) is counted once, for its client: the directory person
 * of its client account (the first by name when several logged in), else of its client address, else the address
 * itself. Messages and transfers are those carried on the user's flows within the period.
 */
export async function imUsers(ctx: ReportContext): Promise<ImUser[]> {
  const q = new Params();
  const fw = scopeWhere(q, ctx.scope, { table: 'flows' }, 'f');
  const mw = scopeWhere(q, { ...ctx.scope, user: null, department: null }, { table: 'messages' }, 'm');
  const tw = scopeWhere(q, { ...ctx.scope, user: null, department: null }, { table: 'transfers' }, 't');
  const sql = `
    WITH fl AS (
      SELECT f.capture_id, f.flow_id, f.client_ip, f.app, f.ts_start, f.ts_end, f.bytes_c2s + f.bytes_s2c AS bytes,
        (SELECT min(a.account) FROM accounts a
          WHERE a.capture_id = f.capture_id AND a.flow_id = f.flow_id AND a.side IS DISTINCT FROM 'server') AS account
      FROM flows f WHERE f.app IS NOT NULL AND ${fw}
    ),
    mc AS (SELECT m.capture_id, m.flow_id, count(*) AS n FROM messages m WHERE ${mw} GROUP BY ALL),
    tc AS (SELECT t.capture_id, t.flow_id, count(*) AS n FROM transfers t WHERE ${tw} GROUP BY ALL)
    SELECT fl.client_ip, fl.app, fl.account, count(*), epoch_ns(min(fl.ts_start)), epoch_ns(max(fl.ts_end)),
      coalesce(sum(mc.n), 0), coalesce(sum(tc.n), 0), sum(fl.bytes)
    FROM fl
      LEFT JOIN mc ON mc.capture_id = fl.capture_id AND mc.flow_id = fl.flow_id
      LEFT JOIN tc ON tc.capture_id = fl.capture_id AND tc.flow_id = fl.flow_id
    GROUP BY ALL ORDER BY 1, 2, 3`;
  const users = new Map<string, ImUser>();
  for (const [ip, app, account, flows, first, last, messages, transfers, bytes] of await rawRows(ctx, sql, q)) {
    const who = ctx.scope.directory.personOf(app as string, account as string | null, ip as string);
    const key = who ? `p\u0000${who.person}` : `a\u0000${ip}`;
    let u = users.get(key);
    if (!u) {
      u = {
        user: who ? who.person : String(ip),
        department: who?.department ?? null,
        kind: who ? 'person' : 'address',
        addresses: new Set(),
        apps: new Set(),
        accounts: new Set(),
        first: BigInt(first as string),
        last: BigInt(last as string),
        sessions: 0,
        messages: 0,
        transfers: 0,
        bytes: 0,
      };
      users.set(key, u);
    }
    u.addresses.add(String(ip));
    u.apps.add(String(app));
    if (account !== null) u.accounts.add(`${account} (${app})`);
    const f = BigInt(first as string), l = BigInt(last as string);
    if (f < u.first) u.first = f;
    if (l > u.last) u.last = l;
    u.sessions += Number(flows);
    u.messages += Number(messages);
    u.transfers += Number(transfers);
    u.bytes += Number(bytes);
  }
  return [...users.values()].sort(
    (a, b) => b.messages - a.messages || b.bytes - a.bytes || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0),
  );
}

export const list = (s: Set<string>) => [...s].sort().join(', ');

/** Parameters for a query where the same scope conditions appear `n` times: the values go `n` times, in order. */
export function repeated(q: Params, n: number): Params {
  const r = new Params();
  for (let i = 0; i < n; i++) r.values.push(...q.values);
  return r;
}

/** How many rows a listing had before `--limit` cut it, for the note. */
export const shown = (rows: number, total: number) => (rows < total ? ` Showing ${rows} of ${total} (--limit).` : '');

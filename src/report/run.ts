/**
 * The registry of reports and the one function the CLI calls: resolve the filters against the directory, run the
 * named report over the store, and return the `Report` for a format to render.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { describeFilters, loadDirectory, resolvePrincipals, type FilterArgs, type Scope } from './filters.js';
import type { Filters, Report } from './model.js';
import { accounts } from './reports/accounts.js';
import { alerts } from './reports/alerts.js';
import { apps } from './reports/apps.js';
import type { ReportDef } from './reports/common.js';
import { conversations } from './reports/conversations.js';
import { messages } from './reports/messages.js';
import { summary } from './reports/summary.js';
import { timeline } from './reports/timeline.js';
import { transfers } from './reports/transfers.js';
import { users } from './reports/users.js';

/** Every report, in the order `--help` and docs/reports.md list them. */
export const REPORTS: readonly ReportDef[] = [summary, users, apps, accounts, conversations, messages, transfers, alerts, timeline];
export const REPORT_NAMES: readonly string[] = REPORTS.map((r) => r.name);

export interface RunOptions {
  /** The database file, for the heading. */
  database: string;
  /** The filter options as typed, for the heading (`7d ago, 2024-…`). */
  given?: FilterArgs;
  /** `--limit` (conversations: how many; messages, transfers, alerts: rows); null for the report's default. */
  limit?: number | null;
  /** Now, nanoseconds since the epoch (tests fix it). */
  now?: bigint;
  /** Now as the heading shows it (tests fix it). */
  generatedAt?: string;
}

export const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** Runs report `name` on an open connection. Throws FilterError for a bad `--regex`; an unknown name is a bug of the caller. */
export async function runReport(conn: DuckDBConnection, name: string, filters: Filters, opts: RunOptions): Promise<Report> {
  const def = REPORTS.find((r) => r.name === name);
  if (!def) throw new Error(`no report named ${name} (reports: ${REPORT_NAMES.join(', ')})`);
  const directory = await loadDirectory(conn);
  const { user, department } = await resolvePrincipals(conn, directory, filters);
  const scope: Scope = { filters, user, department, directory, now: opts.now ?? nowNs() };
  const sections = await def.run({ conn, scope, limit: opts.limit ?? null });
  return {
    name: def.name,
    title: def.title,
    generatedAt: opts.generatedAt ?? new Date().toISOString(),
    version: imtapVersion(),
    filters: describeFilters(filters, opts.given),
    database: opts.database,
    sections,
  };
}

let version: string | null = null;

/** imtap's version from the nearest package.json named imtap above this module (src/ when run from source, dist/ built). */
export function imtapVersion(): string {
  if (version !== null) return version;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = path.join(dir, 'package.json');
    try {
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'imtap' && pkg.version) return (version = pkg.version);
    } catch {
      // No package.json here: look further up.
    }
    const up = path.dirname(dir);
    if (up === dir) return (version = 'unknown');
    dir = up;
  }
}

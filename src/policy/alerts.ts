/**
 * Watchlists over the store: the messages and transfers of a capture (during its ingest, inside the ingest's
 * transaction) or of the whole database (`imtap alerts rescan`) matched against watchlist rules, one `alerts` row per
 * (message or file name, rule) that matched. Both paths run `evaluateCapture`, so a rescan finds exactly what
 * ingest-time evaluation found.
 */
import type { Filters } from '../report/model.js';
import type { Store } from '../store/db.js';
import type { SqlStore } from '../store/local-store.js';
import { tableDef } from '../store/schema.js';
import { resolvePersonSql } from './directory.js';
import { normalize } from './normalize.js';
import { matchText, type Severity, type Watchlist } from './watchlist.js';

export interface AlertCounts {
  total: number;
  bySeverity: Record<Severity, number>;
}

export const noAlerts = (): AlertCounts => ({ total: 0, bySeverity: { low: 0, medium: 0, high: 0, critical: 0 } });

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/**
 * Matches the messages and transfer file names of capture `captureId` against `lists` and appends the hits to
 * `alerts`. Runs inside the caller's transaction (it neither begins nor commits); returns the hits per severity.
 */
export async function evaluateCapture(conn: SqlStore, captureId: number, lists: readonly Watchlist[], detectedAt: bigint = nowNs()): Promise<AlertCounts> {
  const counts = noAlerts();
  if (lists.every((l) => l.rules.length === 0)) return counts;
  const w = await conn.writer(tableDef('alerts'), { fixed: { capture_id: captureId } });
  const emit = (row: { ts: unknown; flow_id: unknown; app: unknown; sender: unknown; recipient: unknown; direction: unknown }, table: 'messages' | 'transfers', text: string, format: string | null) => {
    const app = typeof row.app === 'string' ? row.app : null;
    const n = normalize(text, format);
    for (const list of lists) {
      for (const h of matchText(list, text, format, app, n)) {
        counts.total++;
        counts.bySeverity[h.rule.severity]++;
        w.append({
          ts: row.ts as bigint,
          flow_id: row.flow_id as bigint,
          app,
          source_table: table,
          sender: (row.sender as string | null) ?? null,
          recipient: (row.recipient as string | null) ?? null,
          direction: (row.direction as string | null) ?? null,
          watchlist: list.source,
          rule: h.rule.name,
          severity: h.rule.severity,
          matched: h.matched,
          excerpt: h.excerpt,
          detected_at: detectedAt,
        });
      }
    }
  };
  try {
    const messages = await conn.query(
      'SELECT epoch_ns(ts) AS ts, flow_id, app, sender, recipient, direction, body, body_format FROM messages WHERE capture_id = ? AND body IS NOT NULL ORDER BY ts, flow_id',
      [captureId],
    );
    for (const m of messages) emit(m as never, 'messages', m.body as string, (m.body_format as string | null) ?? null);
    const transfers = await conn.query(
      'SELECT epoch_ns(ts) AS ts, flow_id, app, sender, recipient, NULL AS direction, filename FROM transfers WHERE capture_id = ? AND filename IS NOT NULL ORDER BY ts, flow_id',
      [captureId],
    );
    for (const t of transfers) emit(t as never, 'transfers', t.filename as string, null);
  } finally {
    await w.close();
  }
  return counts;
}

/**
 * `imtap alerts rescan`: every capture of the store matched again against `lists`, in one transaction that first
 * removes the alerts of the same watchlist files (other watchlists' alerts stay).
 */
export async function rescan(conn: SqlStore, lists: readonly Watchlist[]): Promise<{ captures: number; removed: number; counts: AlertCounts }> {
  const counts = noAlerts();
  const detectedAt = nowNs();
  await conn.run('BEGIN TRANSACTION');
  try {
    let removed = 0;
    for (const l of lists) {
      removed += Number((await conn.query('SELECT count(*) AS n FROM alerts WHERE watchlist = ?', [l.source]))[0]!.n);
      await conn.run('DELETE FROM alerts WHERE watchlist = ?', [l.source]);
    }
    const ids = (await conn.query('SELECT capture_id FROM captures ORDER BY capture_id')).map((r) => Number(r.capture_id));
    for (const id of ids) {
      const c = await evaluateCapture(conn, id, lists, detectedAt);
      counts.total += c.total;
      for (const s of Object.keys(c.bySeverity) as Severity[]) counts.bySeverity[s] += c.bySeverity[s];
    }
    await conn.run('COMMIT');
    return { captures: ids.length, removed, counts };
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => {});
    throw e;
  }
}

/**
 * The WHERE clause (and its parameters) selecting the alerts `a` within `filters`: period (`since` inclusive,
 * `until` exclusive), apps, sensor (of the capture), user (a directory person, an account as sender, or the flow's
 * client address) and department (of the directory, as `resolvePersonSql` resolves the sender and client address).
 */
export function alertsWhere(filters: Partial<Filters>): { where: string; params: (string | bigint)[] } {
  const conds: string[] = [];
  const params: (string | bigint)[] = [];
  const who = resolvePersonSql({ account: 'a.sender', app: 'a.app', ip: '(SELECT f.client_ip FROM flows f WHERE f.capture_id = a.capture_id AND f.flow_id = a.flow_id LIMIT 1)' });
  if (filters.since !== null && filters.since !== undefined) {
    conds.push('epoch_ns(a.ts) >= ?');
    params.push(filters.since);
  }
  if (filters.until !== null && filters.until !== undefined) {
    conds.push('epoch_ns(a.ts) < ?');
    params.push(filters.until);
  }
  if (filters.apps && filters.apps.length > 0) {
    conds.push(`a.app IN (${filters.apps.map(() => '?').join(', ')})`);
    params.push(...filters.apps);
  }
  if (filters.sensor) {
    conds.push('a.capture_id IN (SELECT capture_id FROM captures WHERE sensor = ?)');
    params.push(filters.sensor);
  }
  if (filters.user) {
    conds.push(`(${who.person} = ? OR lower(a.sender) = lower(?) OR (SELECT f.client_ip FROM flows f WHERE f.capture_id = a.capture_id AND f.flow_id = a.flow_id LIMIT 1) = ?)`);
    params.push(filters.user, filters.user, filters.user);
  }
  if (filters.department) {
    conds.push(`${who.department} = ?`);
    params.push(filters.department);
  }
  return { where: conds.length === 0 ? 'TRUE' : conds.join(' AND '), params };
}

/**
 * Alerts within a report's filters, per severity: what `--fail-on-alert` on `imtap report` tests (exit code 4 when
 * `total` > 0). Reads only; `store` is a Store (read-only is fine) or a SqlStore.
 */
export async function countAlerts(store: Store | SqlStore, filters: Partial<Filters>): Promise<AlertCounts> {
  const conn: SqlStore = 'connection' in store ? (await import('../store/local-store.js')).localStore(store) : store;
  const { where, params } = alertsWhere(filters);
  const rows = await conn.query(`SELECT a.severity AS severity, count(*) AS n FROM alerts a WHERE ${where} GROUP BY a.severity`, params);
  const counts = noAlerts();
  for (const r of rows) {
    const n = Number(r.n);
    counts.total += n;
    counts.bySeverity[r.severity as Severity] += n;
  }
  return counts;
}

/** "3 alerts (1 critical, 2 high)". */
export function describeCounts(c: AlertCounts): string {
  if (c.total === 0) return 'no alerts';
  const parts = (['critical', 'high', 'medium', 'low'] as const).filter((s) => c.bySeverity[s] > 0).map((s) => `${c.bySeverity[s]} ${s}`);
  return `${c.total} alert${c.total === 1 ? '' : 's'} (${parts.join(', ')})`;
}

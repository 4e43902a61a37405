/**
 * What `imtap ingest --watchlist FILE… [--fail-on-alert]` needs from the policy code, kept here so that the ingest
 * command gains three lines: the files loaded (and refused, with file:line, before the database is opened), and a
 * hook for `ingestCapture` that evaluates each capture inside its transaction and counts the hits.
 */
import path from 'node:path';
import { terminalSafe } from '../util/escape.js';
import type { Output } from '../cli/output.js';
import type { SqlStore } from '../store/local-store.js';
import { describeCounts, evaluateCapture, noAlerts, type AlertCounts } from './alerts.js';
import { loadWatchlist, type Watchlist } from './watchlist.js';

/** The watchlists named on the command line (`alerts.watchlist` is each file's absolute path); null after saying on
 *  `stderr` why one cannot be used. */
export function loadWatchlistArgs(files: readonly string[], stderr: Output): Watchlist[] | null {
  try {
    return files.map((f) => loadWatchlist(f, path.resolve(f)));
  } catch (e) {
    stderr.write(`imtap: ${terminalSafe(e instanceof Error ? e.message : String(e))}\n`);
    return null;
  }
}

export interface AlertHook {
  afterRows(conn: SqlStore, captureId: number): Promise<void>;
  /** The last capture's hits, described ("2 alerts (1 high, 1 low)"), and forgotten. */
  take(): string;
  total(): number;
  describeTotal(): string;
}

/** The ingest hook for `lists`; null when there are none (nothing to evaluate). */
export function alertHook(lists: readonly Watchlist[]): AlertHook | null {
  if (lists.length === 0) return null;
  const all = noAlerts();
  let last: AlertCounts = noAlerts();
  return {
    async afterRows(conn, captureId) {
      last = await evaluateCapture(conn, captureId, lists);
    },
    take() {
      // Counted only now, when the capture's transaction has committed (a failed ingest's hits were rolled back).
      all.total += last.total;
      for (const s of Object.keys(last.bySeverity) as (keyof AlertCounts['bySeverity'])[]) all.bySeverity[s] += last.bySeverity[s];
      const text = describeCounts(last);
      last = noAlerts();
      return text;
    },
    total: () => all.total,
    describeTotal: () => describeCounts(all),
  };
}

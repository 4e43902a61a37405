/**
 * `imtap alerts rescan --watchlist FILE… [--db FILE] [--fail-on-alert]`: every message and file name in the database
 * matched again against the watchlists, replacing the alerts those files produced before, in one transaction.
 * (Listing alerts is `imtap report alerts`, or `imtap query "SELECT * FROM alerts"`.)
 */
import { terminalSafe } from '../util/escape.js';
import { EXIT } from './exit-codes.js';
import { storeErrorMessage } from './ingest.js';
import type { Output } from './output.js';

export interface AlertsArgs {
  db: string;
  watchlist: string[];
  failOnAlert: boolean;
}

export async function alertsCommand(args: AlertsArgs, io: { stdout: Output; stderr: Output }): Promise<number> {
  const { loadWatchlistArgs } = await import('../policy/cli-hooks.js');
  const lists = loadWatchlistArgs(args.watchlist, io.stderr);
  if (lists === null) return EXIT.ERROR;
  const fs = await import('node:fs');
  if (!fs.existsSync(args.db)) {
    io.stderr.write(`imtap: no database at ${terminalSafe(args.db)}: fill one with imtap ingest, or name it with --db (or IMTAP_DB)\n`);
    return EXIT.ERROR;
  }
  const { openStore } = await import('../store/db.js');
  const { localStore } = await import('../store/local-store.js');
  const { rescan, describeCounts } = await import('../policy/alerts.js');
  let store;
  try {
    store = await openStore(args.db);
  } catch (e) {
    io.stderr.write(`imtap: ${terminalSafe(storeErrorMessage(args.db, e))}\n`);
    return EXIT.ERROR;
  }
  try {
    const r = await rescan(localStore(store), lists);
    io.stdout.write(`rescanned ${r.captures} capture${r.captures === 1 ? '' : 's'} with ${lists.length} watchlist${lists.length === 1 ? '' : 's'}: ${describeCounts(r.counts)} (${r.removed} earlier alerts of these watchlists replaced)\n`);
    return args.failOnAlert && r.counts.total > 0 ? EXIT.ALERTS : EXIT.OK;
  } catch (e) {
    io.stderr.write(`imtap: ${terminalSafe(e instanceof Error ? e.message : String(e))}\n`);
    return EXIT.ERROR;
  } finally {
    store.close();
  }
}

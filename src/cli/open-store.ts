/** Opening the database for the commands that read it (query, export), with the messages a person can act on. */
import fs from 'node:fs';
import type { Store } from '../store/db.js';
import { terminalSafe } from '../util/escape.js';
import { storeErrorMessage } from './ingest.js';
import type { Output } from './output.js';

/** The store opened read-only, or null after saying on `stderr` why it could not be (the caller exits 1). */
export async function openForReading(db: string, stderr: Output): Promise<Store | null> {
  if (!fs.existsSync(db)) {
    stderr.write(`imtap: no database at ${terminalSafe(db)}: fill one with imtap ingest, or name it with --db (or IMTAP_DB)\n`);
    return null;
  }
  const { openStore } = await import('../store/db.js');
  // While `imtap live` flushes (tens of milliseconds every few seconds) the file is locked: wait for it, up to
  // IMTAP_BUSY_WAIT seconds (default 10), instead of failing a cron report (docs/live.md).
  const waitMs = Math.max(0, Number(process.env.IMTAP_BUSY_WAIT ?? 10) * 1000 || 0);
  const until = Date.now() + waitMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      return await openStore(db, { readOnly: true });
    } catch (e) {
      const busy = /Could not set lock on file|Conflicting lock is held/i.test(e instanceof Error ? e.message : String(e));
      if (busy && Date.now() + delay <= until) {
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      stderr.write(`imtap: ${terminalSafe(storeErrorMessage(db, e))}\n`);
      return null;
    }
  }
}

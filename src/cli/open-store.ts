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
  try {
    return await openStore(db, { readOnly: true });
  } catch (e) {
    stderr.write(`imtap: ${terminalSafe(storeErrorMessage(db, e))}\n`);
    return null;
  }
}

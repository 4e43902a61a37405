/**
 * `imtap export [--db FILE] --format parquet|csv|arrow --out DIR [--table T]`: every data table (or one) as a file
 * `DIR/<table>.<format>`, for other tools: DuckDB, Spark, pandas, polars, pyarrow, a spreadsheet.
 */
import fs from 'node:fs';
import { terminalSafe } from '../util/escape.js';
import { EXIT } from './exit-codes.js';
import { storeErrorMessage } from './ingest.js';
import type { Output } from './output.js';

export interface ExportArgs {
  db: string;
  format: 'parquet' | 'csv' | 'arrow';
  out: string;
  table: string | null;
}

export async function exportCommand(args: ExportArgs, io: { stdout: Output; stderr: Output }): Promise<number> {
  const { exportTables, exportTable } = await import('../store/export.js');
  const { openStore } = await import('../store/db.js');
  let tables;
  try {
    tables = exportTables(args.table);
  } catch (e) {
    io.stderr.write(`imtap: ${terminalSafe((e as Error).message)}\n`);
    return EXIT.USAGE;
  }
  if (!fs.existsSync(args.db)) {
    io.stderr.write(`imtap: no database at ${terminalSafe(args.db)}: fill one with imtap ingest, or name it with --db (or IMTAP_DB)\n`);
    return EXIT.ERROR;
  }
  let store;
  try {
    store = await openStore(args.db, { readOnly: true });
  } catch (e) {
    io.stderr.write(`imtap: ${terminalSafe(storeErrorMessage(args.db, e))}\n`);
    return EXIT.ERROR;
  }
  try {
    fs.mkdirSync(args.out, { recursive: true });
    for (const t of tables) {
      const r = await exportTable(store.connection, t, args.format, args.out);
      io.stdout.write(`${terminalSafe(r.file)}: ${r.rows} rows\n`);
    }
    return EXIT.OK;
  } catch (e) {
    io.stderr.write(`imtap: export to ${terminalSafe(args.out)} failed: ${terminalSafe((e as Error).message)}\n`);
    return EXIT.ERROR;
  } finally {
    store.close();
  }
}

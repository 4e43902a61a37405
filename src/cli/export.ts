/**
 * `imtap export [--db FILE] --format parquet|csv|arrow --out DIR [--table T]`: every data table (or one) as a file
 * `DIR/<table>.<format>`, for other tools: DuckDB, Spark, pandas, polars, pyarrow, a spreadsheet.
 */
import fs from 'node:fs';
import { terminalSafe } from '../util/escape.js';
import { EXIT } from './exit-codes.js';
import { openForReading } from './open-store.js';
import type { Output } from './output.js';

export interface ExportArgs {
  db: string;
  format: 'parquet' | 'csv' | 'arrow';
  out: string;
  table: string | null;
}

export async function exportCommand(args: ExportArgs, io: { stdout: Output; stderr: Output }): Promise<number> {
  const { exportTables, exportTable } = await import('../store/export.js');
  let tables;
  try {
    tables = exportTables(args.table);
  } catch (e) {
    io.stderr.write(`imtap: ${terminalSafe((e as Error).message)}\n`);
    return EXIT.USAGE;
  }
  const store = await openForReading(args.db, io.stderr);
  if (!store) return EXIT.ERROR;
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

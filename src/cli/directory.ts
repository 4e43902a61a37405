/**
 * `imtap directory import FILE [--replace]` and `imtap directory list [--format …]`: the directory of people
 * (src/policy/directory.ts; CSV format in docs/reports.md). An import is one transaction: a bad row (named by file
 * and line) imports nothing and exits 1.
 */
import { terminalSafe } from '../util/escape.js';
import { EXIT } from './exit-codes.js';
import { storeErrorMessage } from './ingest.js';
import { openForReading } from './open-store.js';
import type { Output } from './output.js';
import type { QueryFormat } from './query.js';

export interface DirectoryArgs {
  action: 'import' | 'list';
  file: string | null;
  db: string;
  replace: boolean;
  format: QueryFormat;
}

export async function directoryCommand(args: DirectoryArgs, io: { stdout: Output; stderr: Output }): Promise<number> {
  const say = (e: unknown) => io.stderr.write(`imtap: ${terminalSafe(e instanceof Error ? e.message : String(e))}\n`);
  if (args.action === 'list') {
    const store = await openForReading(args.db, io.stderr);
    if (!store) return EXIT.ERROR;
    try {
      const { plainRows, render } = await import('./query.js');
      const result = await store.connection.runAndReadAll(
        'SELECT person, department, kind, value, app, source, imported_at FROM directory ORDER BY person, department NULLS FIRST, kind, value, app NULLS FIRST',
      );
      const { columns, rows } = plainRows(result);
      io.stdout.write(await render(args.format, columns, rows, io.stdout));
      return EXIT.OK;
    } finally {
      store.close();
    }
  }
  const { importDirectory, parseDirectoryCsv } = await import('../policy/directory.js');
  // The file is checked before the database is opened: a bad row changes nothing, not even a new empty database.
  const fs = await import('node:fs');
  try {
    await parseDirectoryCsv(fs.readFileSync(args.file!, 'utf8'), args.file!);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    say(err.code ? `${args.file}: cannot read the directory file (${err.code})` : e);
    return EXIT.ERROR;
  }
  const { openStore } = await import('../store/db.js');
  const { localStore } = await import('../store/local-store.js');
  let store;
  try {
    store = await openStore(args.db);
  } catch (e) {
    say(storeErrorMessage(args.db, e));
    return EXIT.ERROR;
  }
  try {
    const r = await importDirectory(localStore(store), args.file!, { replace: args.replace });
    io.stdout.write(
      `${terminalSafe(args.file!)}: ${r.read} entries read, ${r.inserted} added${r.skipped > 0 ? `, ${r.skipped} exact duplicates skipped` : ''}${args.replace ? `, ${r.removed} earlier entries of this file removed` : ''}\n`,
    );
    return EXIT.OK;
  } catch (e) {
    say(e);
    return EXIT.ERROR;
  } finally {
    store.close();
  }
}

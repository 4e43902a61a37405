/**
 * `imtap report <name> [--db FILE] [--since T] [--until T] [--app A]… [--user U] [--department D] [--sensor S]
 * [--grep TEXT | --regex RE] [--limit N] [--format table|csv|json|ndjson|md|html] [--out FILE]`: run a report over
 * the database (read-only) and print it, or write it to FILE (atomically: a temporary file in the same directory,
 * then renamed, so that a cron job's reader never sees half a report).
 */
import fs from 'node:fs';
import path from 'node:path';
import { terminalSafe } from '../util/escape.js';
import { EXIT } from './exit-codes.js';
import { openForReading } from './open-store.js';
import type { Output } from './output.js';

export type ReportFormatName = 'table' | 'csv' | 'json' | 'ndjson' | 'md' | 'html';

export interface ReportArgs {
  name: string;
  db: string;
  since: string | null;
  until: string | null;
  app: string[];
  user: string | null;
  department: string | null;
  sensor: string | null;
  grep: string | null;
  regex: string | null;
  limit: number | null;
  format: ReportFormatName;
  out: string | null;
  /** `--fail-on-alert`: exit code 4 (EXIT.ALERTS) when the report's period and filters hold watchlist alerts. */
  failOnAlert?: boolean;
}

export async function reportCommand(args: ReportArgs, io: { stdout: Output; stderr: Output }, now?: bigint): Promise<number> {
  const { parseFilters, FilterError } = await import('../report/filters.js');
  const { runReport, nowNs } = await import('../report/run.js');
  const at = now ?? nowNs();
  let filters;
  try {
    filters = parseFilters(args, at);
  } catch (e) {
    if (e instanceof FilterError) {
      io.stderr.write(`imtap: ${terminalSafe(e.message)}\n(run imtap report --help for usage)\n`);
      return EXIT.USAGE;
    }
    throw e;
  }
  if (args.limit !== null && (!Number.isSafeInteger(args.limit) || args.limit < 1)) {
    io.stderr.write(`imtap: --limit ${terminalSafe(String(args.limit))} is not a positive whole number\n`);
    return EXIT.USAGE;
  }
  const store = await openForReading(args.db, io.stderr);
  if (!store) return EXIT.ERROR;
  let report;
  let done: number = EXIT.OK;
  try {
    report = await runReport(store.connection, args.name, filters, { database: args.db, given: args, limit: args.limit, now: at });
    if (args.failOnAlert && (await (await import('../policy/alerts.js')).countAlerts(store, filters)).total > 0) done = EXIT.ALERTS;
  } catch (e) {
    if (e instanceof FilterError) {
      io.stderr.write(`imtap: ${terminalSafe(e.message)}\n`);
      return EXIT.USAGE;
    }
    throw e;
  } finally {
    store.close();
  }
  const { renderReport } = await import('../report/format/index.js');
  if (args.out === null) {
    io.stdout.write(renderReport(report, args.format, { color: io.stdout.color, width: io.stdout.isTTY ? io.stdout.columns : Infinity }));
    return done;
  }
  const text = renderReport(report, args.format, { color: false, width: Infinity });
  try {
    writeAtomically(args.out, text);
  } catch (e) {
    io.stderr.write(`imtap: cannot write ${terminalSafe(args.out)}: ${terminalSafe(e instanceof Error ? e.message : String(e))}\n`);
    return EXIT.ERROR;
  }
  return done;
}

/** Writes `text` to `file` through a temporary file in the same directory and a rename (atomic on one file system). */
export function writeAtomically(file: string, text: string): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, text, { flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * `imtap ingest <capture>… [--db FILE] [--sensor NAME] [--replace]`: read captures into the DuckDB store
 * (captures, flows, anomalies so far). A capture already complete in the store (same SHA-256) is skipped and said so.
 */
import fs from 'node:fs';
import { isDamage } from '../decoders/capture/issues.js';
import { terminalSafe } from '../util/escape.js';
import { EXIT, worst } from './exit-codes.js';
import type { Output } from './output.js';

/**
 * A progress bar on standard error when it is a terminal and not under CI (cli-progress: a maintained bar that
 * redraws in place and cleans up after itself); nothing otherwise, so cron logs and pipes stay clean.
 */
async function progressBar(stderr: Output, name: string): Promise<{ update(consumed: number, size: number | null): void; stop(): void } | null> {
  if (!stderr.isTTY || process.env.CI) return null;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: `${name.length > 40 ? '…' + name.slice(-39) : name} [{bar}] {percentage}% {mb}/{total_mb} MB`, hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(consumed, size) {
      if (size === null) return;
      if (!started) {
        bar.start(size, 0, { mb: '0.0', total_mb: (size / 1e6).toFixed(1) });
        started = true;
      }
      bar.update(Math.min(consumed, size), { mb: (consumed / 1e6).toFixed(1), total_mb: (size / 1e6).toFixed(1) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export interface IngestArgs {
  captures: string[];
  db: string;
  sensor: string | null;
  replace: boolean;
  /** Directory for carved files; null: hash only. */
  extract?: string | null;
  /** User rule files (`--rules`, docs/rules.md), in order of increasing precedence over the built-in rules. */
  rules?: string[];
  /** Run the analyzers (default true; `--no-analyze`, hidden: flows and anomalies only, to measure the storage). */
  analyze?: boolean;
  /** Watchlist files (`--watchlist`, docs/reports.md) evaluated over each capture's messages inside its transaction. */
  watchlist?: string[];
  /** `--fail-on-alert`: exit code 4 (EXIT.ALERTS) when this run found watchlist hits. */
  failOnAlert?: boolean;
}

/** The database named by --db, else $IMTAP_DB, else ./imtap.duckdb. */
export function defaultDb(env: NodeJS.ProcessEnv = process.env): string {
  return env.IMTAP_DB && env.IMTAP_DB !== '' ? env.IMTAP_DB : 'imtap.duckdb';
}

/** DuckDB's lock error, as one sentence a person can act on; other errors as they are. */
export function storeErrorMessage(db: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const lock = /Could not set lock on file[\s\S]*?(?:PID (\d+))?/i.exec(msg);
  if (lock) {
    const pid = /PID (\d+)/.exec(msg)?.[1];
    return `the database ${db} is in use by another imtap process${pid ? ` (PID ${pid})` : ''}: wait for it to finish, or name another file with --db`;
  }
  return `${db}: ${msg}`;
}

export async function ingestCommand(args: IngestArgs, io: { stdout: Output; stderr: Output; stdin?: NodeJS.ReadableStream | undefined }): Promise<number> {
  // The app rules are read before the database is touched: a bad rule file stops the run with nothing done.
  const { loadAppRules } = await import('../decoders/apps/rules.js');
  const { DnsCache } = await import('../decoders/apps/dns-cache.js');
  let rules;
  try {
    rules = loadAppRules(args.rules ?? []);
  } catch (e) {
    io.stderr.write(`imtap: ${terminalSafe(e instanceof Error ? e.message : String(e))}\n`);
    return EXIT.ERROR;
  }
  // Watchlists too are checked before the database is opened (policy/cli-hooks.ts).
  const { loadWatchlistArgs, alertHook } = await import('../policy/cli-hooks.js');
  const lists = loadWatchlistArgs(args.watchlist ?? [], io.stderr);
  if (lists === null) return EXIT.ERROR;
  const alerts = alertHook(lists);
  // DuckDB loads and opens the file in a worker thread (and later does its share of the writing there) while this
  // thread loads the decoders.
  const { openWorkerStore } = await import('../store/worker-store.js');
  const opening = openWorkerStore(args.db);
  opening.catch(() => {});
  const { ingestCapture } = await import('../store/ingest.js');
  // One DNS cache for the whole run: a name resolved in one capture names the flows of the next ones.
  const names = new DnsCache();
  let store;
  try {
    store = await opening;
  } catch (e) {
    io.stderr.write(`imtap: ${terminalSafe(storeErrorMessage(args.db, e))}\n`);
    return EXIT.ERROR;
  }
  let code: number = EXIT.OK;
  if (args.extract) {
    try {
      fs.mkdirSync(args.extract, { recursive: true });
    } catch (e) {
      await store.close();
      io.stderr.write(`imtap: --extract ${terminalSafe(args.extract)}: cannot create the directory: ${terminalSafe((e as Error).message)}\n`);
      return EXIT.ERROR;
    }
  }
  const total = { captures: 0, skipped: 0, packets: 0, flows: 0, anomalies: 0 };
  try {
    for (const file of args.captures) {
      const name = terminalSafe(file);
      const bar = await progressBar(io.stderr, name);
      try {
        const r = await ingestCapture(store, file, {
          sensor: args.sensor,
          replace: args.replace,
          extractDir: args.extract ?? null,
          rules,
          ...(args.analyze === false ? { analyze: false } : {}),
          names,
          ...(alerts ? { afterRows: alerts.afterRows } : {}),
          ...(io.stdin ? { stdin: io.stdin } : {}),
          ...(bar ? { onProgress: (c: number, s: number | null) => bar.update(c, s) } : {}),
        }).finally(() => bar?.stop());
        if (r.outcome === 'already') {
          total.skipped++;
          io.stdout.write(`${name}: already in ${terminalSafe(args.db)} as capture ${r.captureId} (same SHA-256); nothing done (--replace ingests it again)\n`);
          continue;
        }
        total.captures++;
        total.packets += r.packets;
        total.flows += r.flows;
        total.anomalies += r.anomalies;
        const how = r.outcome === 'resumed' ? 'interrupted ingest redone as' : r.outcome === 'replaced' ? 'replaced' : 'ingested as';
        const m = r.im;
        const imText = m.imFlows > 0 ? `; IM: ${m.imFlows} flows, ${m.accounts} accounts, ${m.messages} messages, ${m.transfers} transfers, ${m.contacts} contacts, ${m.events} events` : '; no IM';
        io.stdout.write(`${name}: ${how} capture ${r.captureId}: ${r.packets} packets, ${r.flows} flows, ${r.anomalies} anomaly rows${imText}, ${r.status}\n`);
        if (alerts) io.stdout.write(`${name}: watchlists: ${alerts.take()}\n`);
        if (r.status === 'partial') {
          code = worst(code, EXIT.DAMAGED);
          for (const i of r.summary!.issues.list.filter((x) => isDamage(x.code))) io.stderr.write(`imtap: ${name}: ${i.code} at byte ${i.offset}: ${terminalSafe(i.message)}\n`);
        }
      } catch (e) {
        code = worst(code, EXIT.ERROR);
        io.stderr.write(`imtap: ${terminalSafe(e instanceof Error ? e.message : String(e))}\n`);
      }
    }
    if (args.captures.length > 1 || total.captures > 0) {
      // IM flows (by app), messages and transfers as the store has them (this run and earlier ones).
      const byApp = (await store.query('SELECT app, count(*) AS n FROM flows WHERE app IS NOT NULL GROUP BY app ORDER BY 2 DESC, 1')).map((r) => [r.app, r.n]);
      const im = Object.values((await store.query('SELECT (SELECT count(*) FROM messages) AS m, (SELECT count(*) FROM transfers) AS t, (SELECT count(DISTINCT account) FROM accounts) AS a, (SELECT count(*) FROM flows WHERE encrypted AND app IS NULL) AS e'))[0]!);
      const apps = byApp.length === 0 ? 'no IM flows' : `IM flows ${byApp.map(([a, n]) => `${terminalSafe(String(a))} ${n}`).join(', ')}`;
      io.stdout.write(
        `total: ${total.captures} captures ingested, ${total.skipped} already there; ${total.packets} packets, ${total.flows} flows, ${total.anomalies} anomaly rows; in ${terminalSafe(args.db)}: ${apps}; ${im[3]} encrypted flows unidentified; ${im[2]} distinct accounts, ${im[0]} messages, ${im[1]} transfers\n`,
      );
    }
  } finally {
    await store.close();
  }
  if (alerts) {
    io.stdout.write(`total: watchlists: ${alerts.describeTotal()}\n`);
    if (args.failOnAlert && alerts.total() > 0 && code !== EXIT.ERROR) code = EXIT.ALERTS;
  }
  return code;
}

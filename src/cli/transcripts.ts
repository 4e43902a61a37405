/**
 * `imtap export transcripts --format jsonl|eml --out DIR [--db FILE] [--since T] [--until T] [--app A]…`: every
 * message (or those of a period and apps) with its provenance, as JSON Lines or one .eml per message, with
 * MANIFEST.json (file hashes, hash chain over the records) for auditors; `imtap verify DIR` checks it.
 */
import path from 'node:path';
import { terminalSafe } from '../util/escape.js';
import { isoTime } from '../util/time.js';
import { EXIT } from './exit-codes.js';
import { openForReading } from './open-store.js';
import type { Output } from './output.js';

export interface TranscriptsArgs {
  db: string;
  format: 'jsonl' | 'eml';
  out: string;
  since: string | null;
  until: string | null;
  app: string[];
}

const iso = (ns: bigint): string => {
  const sec = ns / 1_000_000_000n - (ns % 1_000_000_000n < 0n ? 1n : 0n);
  return isoTime(Number(sec), Number(ns - sec * 1_000_000_000n), 9);
};

export async function transcriptsCommand(args: TranscriptsArgs, io: { stdout: Output; stderr: Output }): Promise<number> {
  // The same times as `imtap report`: ISO 8601 or relative to now (24h, 7d), so a nightly job can say --since 24h.
  const { parseTime } = await import('../report/filters.js');
  const now = BigInt(Date.now()) * 1_000_000n;
  let since: bigint | null = null;
  let until: bigint | null = null;
  try {
    if (args.since) since = parseTime(args.since, now, '--since');
    if (args.until) until = parseTime(args.until, now, '--until');
  } catch (e) {
    io.stderr.write(`imtap: ${terminalSafe((e as Error).message)}\n`);
    return EXIT.USAGE;
  }
  if (since !== null && until !== null && since >= until) {
    io.stderr.write(`imtap: --since ${terminalSafe(args.since!)} is not before --until ${terminalSafe(args.until!)}\n`);
    return EXIT.USAGE;
  }
  const apps = [...new Set(args.app.flatMap((a) => a.split(',')).map((a) => a.trim()).filter((a) => a !== ''))];
  const store = await openForReading(args.db, io.stderr);
  if (!store) return EXIT.ERROR;
  const { exportTranscripts, ExportTargetError } = await import('../archive/export.js');
  try {
    const { manifest } = await exportTranscripts(store.connection, {
      dir: args.out,
      format: args.format,
      filters: { since, until, apps },
      filterText: { since: since === null ? null : iso(since), until: until === null ? null : iso(until), apps },
      database: { path: path.resolve(args.db), schema_version: store.version },
    });
    io.stdout.write(
      `${terminalSafe(args.out)}: ${manifest.records} records in ${manifest.files.length} ${args.format} files\n` +
        `chain head ${manifest.chain.head}\nmanifest sha256 ${manifest.manifest_sha256}\n` +
        `(keep these two hashes apart from the export: imtap verify --head checks against the first)\n`,
    );
    return EXIT.OK;
  } catch (e) {
    const msg = e instanceof ExportTargetError ? e.message : `export to ${args.out} failed: ${(e as Error).message}`;
    io.stderr.write(`imtap: ${terminalSafe(msg)}\n`);
    return EXIT.ERROR;
  } finally {
    store.close();
  }
}

/**
 * Writing a transcript export: the records as JSON Lines (one file per app and UTC day) or as one .eml per record,
 * each record chained to the one before, then MANIFEST.json last. Every file is fsynced and closed before the
 * manifest is written (through a temporary file and a rename), so a crash leaves either a complete export or a
 * directory without a manifest, which `imtap verify` reports as incomplete.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { toEml } from './eml.js';
import { emptyChain, EXPORT_FORMAT, fsyncDir, imtapVersion, sealManifest, writeManifest, type Manifest, type ManifestFile } from './manifest.js';
import { chainHash, GENESIS, type ChainedRecord } from './record.js';
import { readRecords, recordDay, type TranscriptFilters } from './source.js';

export type RecordFormat = 'jsonl' | 'eml';

export interface ExportOptions {
  dir: string;
  format: RecordFormat;
  filters: TranscriptFilters;
  /** The filters as the user gave them, for the manifest. */
  filterText: Manifest['filters'];
  database: Manifest['database'];
}

/** The export directory cannot be used (not empty, not a directory). */
export class ExportTargetError extends Error {
  override name = 'ExportTargetError';
}

/** A file being written: its hash and size follow the bytes written. */
class Sink {
  private fd: number;
  private hash: Hash = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  bytes = 0;
  records = 0;

  constructor(
    readonly dir: string,
    readonly name: string,
  ) {
    // 'wx': never write through a file that is already there
    this.fd = fs.openSync(path.join(dir, name), 'wx');
  }

  write(text: string): void {
    const b = Buffer.from(text, 'utf8');
    this.hash.update(b);
    this.bytes += b.length;
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= 1 << 16) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const b = Buffer.concat(this.pending);
    let off = 0;
    while (off < b.length) off += fs.writeSync(this.fd, b, off);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Flushes, fsyncs and closes; the file's manifest entry. */
  close(): ManifestFile {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    return { name: this.name, sha256: this.hash.digest('hex'), bytes: this.bytes, records: this.records };
  }
}

/** `<app>-<YYYY-MM-DD>.jsonl`, the app reduced to `a-z 0-9 _ -`. */
export function jsonlName(app: string, day: string): string {
  const a = app.toLowerCase().replace(/[^a-z0-9_-]/g, '_').replace(/^[-_]+/, '').slice(0, 64) || 'app';
  return `${a}-${day.replace(/[^0-9-]/g, '_')}.jsonl`;
}

/** `<seq>.eml`, at least eight digits so that names sort in record order. */
export const emlName = (seq: number): string => `${String(seq).padStart(8, '0')}.eml`;

function prepareDir(dir: string): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new ExportTargetError(`${dir} is not a directory`);
    const entries = fs.readdirSync(dir);
    if (entries.length > 0) throw new ExportTargetError(`${dir} is not empty (${entries.length} entries): export into a new or empty directory`);
  } else {
    fs.mkdirSync(dir, { recursive: true });
  }
}

export interface ExportResult {
  manifest: Manifest;
}

export async function exportTranscripts(conn: DuckDBConnection, o: ExportOptions): Promise<ExportResult> {
  prepareDir(o.dir);
  const files: ManifestFile[] = [];
  const open = new Map<string, Sink>();
  const done = new Set<string>();
  let day = '';
  let head = GENESIS;
  let count = 0;
  const closeAll = () => {
    for (const s of open.values()) {
      files.push(s.close());
      done.add(s.name);
    }
    open.clear();
  };
  try {
    for await (const rec of readRecords(conn, o.filters)) {
      head = chainHash(head, rec);
      const r: ChainedRecord = { ...rec, chain: head };
      count++;
      if (o.format === 'eml') {
        const s = new Sink(o.dir, emlName(r.seq));
        s.write(toEml(r));
        s.records = 1;
        files.push(s.close());
        continue;
      }
      const d = recordDay(r);
      if (d !== day) {
        closeAll(); // records come in time order: a day once passed does not come back
        day = d;
      }
      const name = jsonlName(r.app, d);
      let s = open.get(name);
      if (!s) {
        if (done.has(name)) throw new Error(`internal: ${name} would be written twice (records out of time order)`);
        s = new Sink(o.dir, name);
        open.set(name, s);
      }
      s.write(JSON.stringify(r) + '\n');
      s.records++;
    }
    closeAll();
  } finally {
    // on an error the files stay without a manifest: verify calls that an incomplete export
    for (const s of open.values()) {
      try {
        s.close();
      } catch {
        // already failing
      }
    }
  }
  fsyncDir(o.dir);
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const manifest = sealManifest({
    format: EXPORT_FORMAT,
    imtap_version: imtapVersion(),
    created_at: new Date().toISOString(),
    record_format: o.format,
    database: o.database,
    filters: o.filterText,
    records: count,
    files,
    chain: { ...emptyChain(), head },
  });
  writeManifest(o.dir, manifest);
  return { manifest };
}

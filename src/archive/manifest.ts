/**
 * MANIFEST.json of a transcript export: what was exported, from where, every file with its SHA-256 and size, and the
 * head of the hash chain. `manifest_sha256` is the SHA-256 of the canonical JSON of the manifest without that field:
 * it catches an edit of the manifest that does not recompute it. It cannot stop someone who recomputes every hash —
 * nothing kept in the same directory can — so the export prints the chain head and the manifest's hash for the
 * auditor to keep elsewhere, and `imtap verify --head` checks against them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, CANONICAL_FORM, GENESIS, sha256Hex } from './record.js';

export const MANIFEST_NAME = 'MANIFEST.json';
export const EXPORT_FORMAT = 'imtap-transcripts/1';

export interface ManifestFile {
  /** Name inside the export directory (no directory part). */
  name: string;
  sha256: string;
  bytes: number;
  records: number;
}

export interface Manifest {
  format: typeof EXPORT_FORMAT;
  imtap_version: string;
  created_at: string;
  /** jsonl or eml */
  record_format: 'jsonl' | 'eml';
  database: { path: string; schema_version: number };
  filters: { since: string | null; until: string | null; apps: string[] };
  records: number;
  files: ManifestFile[];
  chain: { algorithm: 'sha256'; canonical_form: typeof CANONICAL_FORM; genesis: string; head: string };
  manifest_sha256: string;
}

export type ManifestBody = Omit<Manifest, 'manifest_sha256'>;

/** manifest_sha256 of a manifest's other fields. */
export const manifestHash = (m: ManifestBody): string => {
  const { manifest_sha256: _m, ...rest } = m as Manifest;
  return sha256Hex(canonicalJson(rest));
};

export function sealManifest(m: ManifestBody): Manifest {
  return { ...m, manifest_sha256: manifestHash(m) };
}

export const emptyChain = (): Manifest['chain'] => ({ algorithm: 'sha256', canonical_form: CANONICAL_FORM, genesis: GENESIS, head: GENESIS });

/** A file name the export may hold: one path component, no dot files, nothing a shell or a traversal could use. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Writes MANIFEST.json last and atomically: a temporary file, fsync, rename, fsync of the directory. */
export function writeManifest(dir: string, m: Manifest): void {
  const tmp = path.join(dir, `.${MANIFEST_NAME}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(m, null, 2) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, MANIFEST_NAME));
  fsyncDir(dir);
}

/** fsync of a directory, so that the names of the files in it are on disk (not possible on every platform). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot open a directory for fsync; its renames are durable on their own
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** imtap's version, from its package.json (searched upwards: the layout differs between src/ and dist/). */
export function imtapVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'imtap' && pkg.version) return pkg.version;
      } catch {
        // not readable: keep looking
      }
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

/**
 * Checking a transcript export against its manifest: the manifest's own hash, every file's SHA-256 and size (missing,
 * changed, extra files), every record (parses, in order within its file, content matching its chain hash), the chain
 * (records 1..N, each linked to the one before) and its head. Problems are collected, not thrown: an auditor wants the
 * whole list.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseEml } from './eml.js';
import { EXPORT_FORMAT, MANIFEST_NAME, manifestHash, SAFE_NAME, type Manifest } from './manifest.js';
import { chainHash, GENESIS, type ChainedRecord } from './record.js';

export interface Problem {
  /** missing_manifest, manifest_altered, file_missing, file_changed, extra_file, record_invalid, record_order,
   * record_duplicate, record_missing, record_altered, chain_broken, count_mismatch, head_mismatch */
  code: string;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  problems: Problem[];
  files: number;
  records: number;
  head: string | null;
}

interface Located {
  rec: ChainedRecord;
  where: string;
  file: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Every file under `dir` (relative names, `/`-separated), directories included when empty. */
function listAll(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const name = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      const inner = listAll(dir, name);
      out.push(...(inner.length ? inner : [`${name}/`]));
    } else out.push(name);
  }
  return out;
}

function checkManifestShape(m: unknown): string | null {
  if (typeof m !== 'object' || m === null) return 'not a JSON object';
  const o = m as Partial<Manifest>;
  if (o.format !== EXPORT_FORMAT) return `format is not ${EXPORT_FORMAT}`;
  if (o.record_format !== 'jsonl' && o.record_format !== 'eml') return 'record_format is neither jsonl nor eml';
  if (!Number.isSafeInteger(o.records) || (o.records as number) < 0) return 'records is not a count';
  if (!Array.isArray(o.files)) return 'files is not a list';
  for (const f of o.files) {
    if (typeof f !== 'object' || f === null || typeof f.name !== 'string' || typeof f.sha256 !== 'string' || !Number.isSafeInteger(f.bytes)) {
      return 'a file entry lacks name, sha256 or bytes';
    }
  }
  if (!o.chain || typeof o.chain.head !== 'string' || !HEX64.test(o.chain.head)) return 'chain.head is not a SHA-256';
  if (o.chain.genesis !== GENESIS) return 'chain.genesis is not 64 zeros';
  if (typeof o.manifest_sha256 !== 'string') return 'manifest_sha256 is missing';
  return null;
}

/** Records of one file, each with where it is; problems for what does not parse. */
function readRecords(dir: string, name: string, format: 'jsonl' | 'eml', problems: Problem[]): Located[] {
  const text = fs.readFileSync(path.join(dir, name), 'utf8');
  if (format === 'eml') {
    try {
      return [{ rec: parseEml(text), where: name, file: name }];
    } catch (e) {
      problems.push({ code: 'record_invalid', message: `${name}: not a transcript message: ${(e as Error).message}` });
      return [];
    }
  }
  const out: Located[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else problems.push({ code: 'record_invalid', message: `${name}: the last line is not terminated` });
  lines.forEach((line, i) => {
    const where = `${name}:${i + 1}`;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      problems.push({ code: 'record_invalid', message: `${where}: not a JSON record` });
      return;
    }
    const r = rec as Partial<ChainedRecord>;
    if (typeof rec !== 'object' || rec === null || !Number.isSafeInteger(r.seq) || typeof r.chain !== 'string') {
      problems.push({ code: 'record_invalid', message: `${where}: not a transcript record (seq or chain missing)` });
      return;
    }
    out.push({ rec: rec as ChainedRecord, where, file: name });
  });
  return out;
}

/** Verifies the export in `dir`; `expectHead` is a chain head kept elsewhere (checked against the manifest's). */
export function verifyExport(dir: string, expectHead: string | null = null): VerifyResult {
  const problems: Problem[] = [];
  const add = (code: string, message: string) => problems.push({ code, message });
  const result = (m: Manifest | null, records: number): VerifyResult => ({
    ok: problems.length === 0,
    problems,
    files: m?.files.length ?? 0,
    records,
    head: m?.chain.head ?? null,
  });

  const mpath = path.join(dir, MANIFEST_NAME);
  if (!fs.existsSync(mpath)) {
    add('missing_manifest', `${MANIFEST_NAME} missing: not an export, or the export did not finish`);
    return result(null, 0);
  }
  let m: Manifest;
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(mpath, 'utf8'));
    const shape = checkManifestShape(parsed);
    if (shape) {
      add('manifest_altered', `${MANIFEST_NAME} altered: ${shape}`);
      return result(null, 0);
    }
    m = parsed as Manifest;
  } catch {
    add('manifest_altered', `${MANIFEST_NAME} altered: not JSON`);
    return result(null, 0);
  }
  const sealed = manifestHash(m);
  if (sealed !== m.manifest_sha256) {
    add('manifest_altered', `${MANIFEST_NAME} altered: its content hashes to ${sealed}, not to its manifest_sha256 ${m.manifest_sha256}`);
  }
  if (expectHead !== null && expectHead.toLowerCase() !== m.chain.head) {
    add('head_mismatch', `chain head ${m.chain.head} in ${MANIFEST_NAME} is not the expected ${expectHead.toLowerCase()}`);
  }

  // files: listed ones present and unchanged, nothing else
  const listed = new Set<string>();
  const readable: string[] = [];
  for (const f of m.files) {
    if (!SAFE_NAME.test(f.name) || f.name === MANIFEST_NAME) {
      add('manifest_altered', `${MANIFEST_NAME} altered: file name ${JSON.stringify(f.name)} is not one imtap writes`);
      continue;
    }
    if (listed.has(f.name)) {
      add('manifest_altered', `${MANIFEST_NAME} altered: ${f.name} listed twice`);
      continue;
    }
    listed.add(f.name);
    const p = path.join(dir, f.name);
    if (!fs.existsSync(p)) {
      add('file_missing', `${f.name}: missing`);
      continue;
    }
    if (!fs.statSync(p).isFile()) {
      add('file_changed', `${f.name}: not a regular file`);
      continue;
    }
    const data = fs.readFileSync(p);
    const sha = createHash('sha256').update(data).digest('hex');
    if (sha !== f.sha256 || data.length !== f.bytes) {
      add('file_changed', `${f.name}: changed (sha256 ${sha}, ${data.length} bytes; the manifest says ${f.sha256}, ${f.bytes} bytes)`);
    }
    readable.push(f.name);
  }
  for (const name of listAll(dir).sort()) {
    if (name !== MANIFEST_NAME && !listed.has(name)) add('extra_file', `${name}: extra file, not in ${MANIFEST_NAME}`);
  }

  // records: parse, order within each file, one place per seq
  const bySeq = new Map<number, Located>();
  let seen = 0;
  for (const name of readable) {
    let last: Located | null = null;
    for (const loc of readRecords(dir, name, m.record_format, problems)) {
      seen++;
      if (last && loc.rec.seq <= last.rec.seq) {
        add('record_order', `${loc.where}: record ${loc.rec.seq} out of order (after record ${last.rec.seq} at ${last.where})`);
      }
      last = loc;
      const other = bySeq.get(loc.rec.seq);
      if (other) add('record_duplicate', `${loc.where}: record ${loc.rec.seq} again (first at ${other.where})`);
      else bySeq.set(loc.rec.seq, loc);
    }
  }

  // the chain: each record's content against its own hash (from the previous record's), then the links
  const missing = (from: number, to: number) =>
    add('record_missing', `${from === to ? `record ${from}` : `records ${from}-${to}`} missing (chain broken)`);
  let expected = 1;
  let prev: string | null = GENESIS;
  let strict: string | null = GENESIS; // h(n) recomputed from the start; null once a record is missing
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  for (const seq of seqs) {
    const loc = bySeq.get(seq)!;
    if (seq < 1 || seq > m.records) {
      add('count_mismatch', `${loc.where}: record ${seq} is outside the records 1-${m.records} of ${MANIFEST_NAME}`);
      continue;
    }
    if (seq > expected) {
      missing(expected, seq - 1);
      prev = null;
      strict = null;
    }
    expected = seq + 1;
    if (prev !== null) {
      let h = '';
      try {
        h = chainHash(prev, loc.rec);
      } catch (e) {
        add('record_invalid', `${loc.where}: record ${seq}: ${(e as Error).message}`);
      }
      if (h !== loc.rec.chain) add('record_altered', `${loc.where}: record ${seq} altered, or the record before it (its content does not match its chain hash)`);
    }
    if (strict !== null) {
      try {
        strict = chainHash(strict, loc.rec);
      } catch {
        strict = null;
      }
    }
    // carry on from the hash the record claims, so that one altered record is reported once, not for every later one
    prev = HEX64.test(loc.rec.chain) ? loc.rec.chain : null;
  }
  if (expected <= m.records) {
    missing(expected, m.records);
    strict = null;
  }
  if (strict !== null && strict !== m.chain.head) {
    add('chain_broken', `the chain over the records ends at ${strict}, not at the head ${m.chain.head} in ${MANIFEST_NAME}`);
  }
  if (seen !== m.records && !problems.some((p) => p.code === 'record_missing' || p.code === 'count_mismatch')) {
    add('count_mismatch', `${MANIFEST_NAME} lists ${m.records} records, the files hold ${seen}`);
  }
  return result(m, seen);
}

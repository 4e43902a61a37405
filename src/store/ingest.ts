/**
 * Ingest: one capture into the store. Reads and decodes it, tracks flows, and writes `captures`, `flows` and
 * `anomalies` rows through the Arrow batch writer.
 *
 * Idempotence and crash safety: a capture is known by the SHA-256 of its bytes. Its `captures` row is committed first
 * with status `partial`; everything else is written in one transaction that also marks the row `complete` (or
 * `partial` when the file was damaged). A process killed at any moment leaves either the finished capture or a
 * `partial` row with no data rows; the next ingest of the same file reuses that row's id, deletes anything of it and
 * writes it again, so the result is exactly that of a clean ingest. A `complete` capture is not ingested again
 * unless `replace` is asked for.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Transform } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { CaptureSummary, ReadOptions } from '../decoders/capture/reader.js';
import { isDamage } from '../decoders/capture/issues.js';
import { inspectCapture } from '../stats/capture-stats.js';
import { C_BYTES, C_FIRST_NSEC, C_FIRST_SEC, C_LAST_NSEC, C_LAST_SEC, C_PACKETS, C_PAYLOAD, clientText, flowEnd, serverText, type Flow } from '../flows/flow.js';
import type { FlowLimits } from '../flows/options.js';
import type { Store } from './db.js';
import type { RowWriter, SqlStore } from './local-store.js';
import { tableDef, TABLES, type DuckType } from './schema.js';
import type { DirectFill } from './rows.js';
import { Dispatcher, flowVerdict, type ImRow } from '../decoders/im/dispatch.js';
import { defaultRegistry } from '../decoders/im/protocols.js';
import { loadAppRules, type AppRules } from '../decoders/apps/rules.js';
import { DnsCache, type NameCache } from '../decoders/apps/dns-cache.js';

export interface IngestOptions {
  /** Name of the sensor or tap the capture comes from. */
  sensor?: string | null;
  /** Ingest again a capture that is already complete in the store (its rows are replaced). */
  replace?: boolean;
  /** Standard input, for the name "-". */
  stdin?: NodeJS.ReadableStream;
  /** Awaited before each read (output backpressure). */
  beforeRead?: () => Promise<void> | null | undefined;
  /** Bytes of the file consumed so far, and its size (null for a pipe), after each read. */
  onProgress?: (consumed: number, size: number | null) => void;
  flowLimits?: Partial<FlowLimits>;
  /** Write files carried by IM flows (DCC, bytestreams) into this directory (it must exist). */
  extractDir?: string | null;
  /** Run the IM protocol analyzers (default true; false: flows only, as `inspect --flows` sees them). */
  analyze?: boolean;
  /** Host-name and address rules naming apps (default: the built-in data files, `loadAppRules()`). */
  rules?: AppRules;
  /** Names clients resolved by DNS, kept across the captures of one run (default: a cache for this capture alone). */
  names?: NameCache;
  /** Called with the capture's rows written, inside the ingest transaction, just before COMMIT (watchlists write
   *  their alerts here, so that a kill leaves neither rows without alerts nor alerts without rows). */
  afterRows?: (conn: SqlStore, captureId: number) => Promise<void>;
}

/** Rows the IM analyzers wrote, per table. */
export interface ImCounts {
  imFlows: number;
  accounts: number;
  messages: number;
  transfers: number;
  contacts: number;
  events: number;
}

export interface IngestResult {
  path: string;
  captureId: number;
  /** ingested: new; already: the same bytes were complete in the store, nothing done; replaced: --replace;
   *  resumed: an interrupted ingest of the same bytes was redone. */
  outcome: 'ingested' | 'already' | 'replaced' | 'resumed';
  sha256: string;
  status: 'complete' | 'partial';
  packets: number;
  flows: number;
  anomalies: number;
  im: ImCounts;
  summary: CaptureSummary | null;
}

/** Tables the analyzers write besides flows and anomalies. */
const ANALYZER_TABLES = ['accounts', 'messages', 'transfers', 'contacts', 'events', 'tls', 'dns', 'http'] as const;

const noIm = (): ImCounts => ({ imFlows: 0, accounts: 0, messages: 0, transfers: 0, contacts: 0, events: 0 });

/**
 * Captures up to this size are hashed on the decoding thread: a few milliseconds, where starting a worker thread
 * takes 30-40 (measured: 50 small captures in one ingest spent about 35 ms each waiting for their hash worker). Larger
 * ones are hashed in a worker, which the decoding outlasts.
 */
const HASH_INLINE_BYTES = 4 << 20;

/** SHA-256 of a file computed in a worker thread, so that it overlaps the ingest on another core. */
export function sha256InWorker(path: string): Promise<string> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const h = require('node:crypto').createHash('sha256');
    const s = require('node:fs').createReadStream(workerData, { highWaterMark: 1 << 20 });
    s.on('data', (c) => h.update(c));
    s.on('end', () => parentPort.postMessage({ sha: h.digest('hex') }));
    s.on('error', (e) => parentPort.postMessage({ error: e.message }));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: path });
    w.once('message', (m: { sha?: string; error?: string }) => {
      void w.terminate();
      if (m.sha) resolve(m.sha);
      else reject(new Error(`${path}: cannot hash: ${m.error}`));
    });
    w.once('error', reject);
  });
}

/** SHA-256 of a file's bytes, read as a stream (the page cache makes the second read, the ingest, cheap). */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function scalarRows(conn: SqlStore, sql: string, params: (string | number | null)[] = []): Promise<Record<string, unknown>[]> {
  return conn.query(sql, params);
}

async function exec(conn: SqlStore, sql: string, params: (string | number | null)[] = []): Promise<void> {
  await conn.run(sql, params);
}

/** Deletes every row of a capture from the data tables (not its `captures` row). */
async function deleteCaptureRows(conn: SqlStore, captureId: number): Promise<void> {
  for (const t of TABLES) {
    if (t.name === 'captures' || t.name === 'schema_version') continue;
    if (!t.columns.some((c) => c.name === 'capture_id')) continue;
    await exec(conn, `DELETE FROM ${t.name} WHERE capture_id = ?`, [captureId]);
  }
}

/**
 * The flows row of a flow, written through the column setters (RowBatcher.addWith) instead of a 30-field object that
 * the writer would read back by name. The columns are found by name once; a column of another type than the setter
 * used here stops the ingest at its start.
 */
function flowFiller(analyze: boolean): DirectFill<Flow> {
  const def = tableDef('flows');
  const at = (name: string, type: DuckType): number => {
    const i = def.columns.findIndex((c) => c.name === name);
    if (i < 0 || def.columns[i]!.type !== type) throw new Error(`flows.${name}: expected a ${type} column in schema.ts`);
    return i;
  };
  const tsStart = at('ts_start', 'TIMESTAMP_NS');
  const flowId = at('flow_id', 'BIGINT');
  const tsEnd = at('ts_end', 'TIMESTAMP_NS');
  const transport = at('transport', 'VARCHAR');
  const clientIp = at('client_ip', 'VARCHAR');
  const clientPort = at('client_port', 'USMALLINT');
  const serverIp = at('server_ip', 'VARCHAR');
  const serverPort = at('server_port', 'USMALLINT');
  const orientation = at('orientation', 'VARCHAR');
  const packets = at('packets_c2s', 'BIGINT');
  const packetsS = at('packets_s2c', 'BIGINT');
  const bytes = at('bytes_c2s', 'BIGINT');
  const bytesS = at('bytes_s2c', 'BIGINT');
  const payload = at('payload_bytes_c2s', 'BIGINT');
  const payloadS = at('payload_bytes_s2c', 'BIGINT');
  const endReason = at('end_reason', 'VARCHAR');
  const gaps = at('gaps', 'INTEGER');
  const gapBytes = at('gap_bytes', 'BIGINT');
  const retrans = at('retransmissions', 'BIGINT');
  const vlan = at('vlan', 'INTEGER');
  const tunnel = at('tunnel_depth', 'UTINYINT');
  const anomalies = at('anomalies', 'VARCHAR');
  const protocol = at('protocol', 'VARCHAR');
  const app = at('app', 'VARCHAR');
  const appKind = at('app_kind', 'VARCHAR');
  const method = at('method', 'VARCHAR');
  const confidence = at('confidence', 'DOUBLE');
  const serverName = at('server_name', 'VARCHAR');
  const encrypted = at('encrypted', 'BOOLEAN');
  return (cols, r, f) => {
    const c = f.c;
    const fs0 = c[C_FIRST_SEC]!;
    const fs1 = c[C_FIRST_SEC + 1]!;
    const fn0 = c[C_FIRST_NSEC]!;
    const fn1 = c[C_FIRST_NSEC + 1]!;
    const ls0 = c[C_LAST_SEC]!;
    const ls1 = c[C_LAST_SEC + 1]!;
    const ln0 = c[C_LAST_NSEC]!;
    const ln1 = c[C_LAST_NSEC + 1]!;
    // First and last packet of either direction, as flowStart and flowEnd (a direction without packets left out).
    const p0 = c[C_PACKETS]!;
    const p1 = c[C_PACKETS + 1]!;
    if (p1 === 0 || (p0 !== 0 && (fs0 < fs1 || (fs0 === fs1 && fn0 <= fn1)))) cols[tsStart]!.setTsParts(r, fs0, fn0);
    else cols[tsStart]!.setTsParts(r, fs1, fn1);
    if (p1 === 0 || (p0 !== 0 && !(ls0 < ls1 || (ls0 === ls1 && ln0 <= ln1)))) cols[tsEnd]!.setTsParts(r, ls0, ln0);
    else cols[tsEnd]!.setTsParts(r, ls1, ln1);
    cols[flowId]!.setI64(r, f.id);
    cols[transport]!.setStr(r, f.proto === 6 ? 'tcp' : 'udp');
    cols[clientIp]!.setStr(r, clientText(f));
    cols[clientPort]!.setU16(r, f.cport);
    cols[serverIp]!.setStr(r, serverText(f));
    cols[serverPort]!.setU16(r, f.sport);
    if (f.orientation != null) cols[orientation]!.setStr(r, f.orientation);
    cols[packets]!.setI64(r, p0);
    cols[packetsS]!.setI64(r, p1);
    cols[bytes]!.setI64(r, c[C_BYTES]!);
    cols[bytesS]!.setI64(r, c[C_BYTES + 1]!);
    cols[payload]!.setI64(r, c[C_PAYLOAD]!);
    cols[payloadS]!.setI64(r, c[C_PAYLOAD + 1]!);
    if (f.endReason != null) cols[endReason]!.setStr(r, f.endReason);
    const st0 = f.streams[0];
    const st1 = f.streams[1];
    cols[gaps]!.setI32(r, (st0?.gaps ?? 0) + (st1?.gaps ?? 0));
    cols[gapBytes]!.setI64(r, (st0?.gapBytes ?? 0) + (st1?.gapBytes ?? 0));
    cols[retrans]!.setI64(r, (st0?.retransmissions ?? 0) + (st1?.retransmissions ?? 0));
    if (f.vlanOuter >= 0) cols[vlan]!.setI32(r, f.vlanOuter);
    cols[tunnel]!.setU8(r, f.tunnelDepth);
    if (f.anomalies) cols[anomalies]!.setStr(r, JSON.stringify(Object.fromEntries(f.anomalies)));
    const v = analyze ? flowVerdict(f) : null;
    if (v === null) return;
    cols[protocol]!.setStr(r, v.protocol);
    if (v.app !== null) cols[app]!.setStr(r, v.app);
    if (v.kind !== null) cols[appKind]!.setStr(r, v.kind);
    if (v.method !== null) cols[method]!.setStr(r, v.method);
    if (v.confidence !== null) cols[confidence]!.setF64(r, v.confidence);
    if (v.serverName !== null) cols[serverName]!.setStr(r, v.serverName);
    cols[encrypted]!.setBool(r, v.encrypted);
  };
}

/**
 * Ingests one capture into `store`: a SqlStore (a WorkerStore, which puts DuckDB's work on another thread, as
 * `imtap ingest` does) or an open Store (DuckDB on this thread).
 */
export async function ingestCapture(store: Store | SqlStore, path: string, opts: IngestOptions = {}): Promise<IngestResult> {
  // local-store.js loads DuckDB and Arrow on this thread: only when asked to write here.
  const conn: SqlStore = 'connection' in store ? (await import('./local-store.js')).localStore(store) : store;
  const isStdin = path === '-';
  let size: number | null = null;
  if (!isStdin) {
    try {
      size = fs.statSync(path).size;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(`${path}: cannot open: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message}`);
    }
  }
  let outcome: IngestResult['outcome'] = 'ingested';
  let captureId = 0;
  // The SHA-256 is needed first only when the store may already hold this file (a row with its path and size): then
  // it decides between skipping, redoing an interrupted ingest and replacing. For a new file it is computed in a
  // worker thread while the capture is read, and checked before the commit.
  let sha: string | null = null;
  let lateHash: Promise<string> | null = null;
  if (!isStdin) {
    const candidates = await scalarRows(conn, 'SELECT capture_id FROM captures WHERE path = ? AND file_bytes = ?', [path, size]);
    if (candidates.length > 0) sha = await sha256File(path);
    else {
      lateHash = size! <= HASH_INLINE_BYTES ? sha256File(path) : sha256InWorker(path);
      lateHash.catch(() => {}); // awaited before the commit; an ingest that fails earlier must not leave it unhandled
    }
  }

  if (sha !== null) {
    const found = await scalarRows(conn, 'SELECT capture_id, status FROM captures WHERE sha256 = ? OR (sha256 IS NULL AND path = ? AND file_bytes = ?) ORDER BY capture_id', [sha, path, size]);
    const done = found.find((r) => r.status === 'complete');
    if (done && !opts.replace) {
      return { path, captureId: Number(done.capture_id), outcome: 'already', sha256: sha, status: 'complete', packets: 0, flows: 0, anomalies: 0, im: noIm(), summary: null };
    }
    if (found.length > 0) {
      captureId = Number(found[0]!.capture_id);
      outcome = done ? 'replaced' : 'resumed';
      // Rows of other captures with the same bytes are duplicates: keep one id.
      for (const r of found.slice(1)) {
        await deleteCaptureRows(conn, Number(r.capture_id));
        await exec(conn, 'DELETE FROM captures WHERE capture_id = ?', [Number(r.capture_id)]);
      }
    }
  }

  const startedNs = BigInt(Date.now()) * 1_000_000n;
  const started: [number, number] = [Number(startedNs / 1_000_000_000n), Number(startedNs % 1_000_000_000n)];
  // Nanosecond counts exceed 2^53: they go to SQL as text and are cast there.
  const startedText = startedNs.toString();
  if (captureId === 0) {
    const next = await scalarRows(conn, 'SELECT coalesce(max(capture_id), 0) + 1 AS id FROM captures');
    captureId = Number(next[0]!.id);
    await exec(conn, `INSERT INTO captures (capture_id, path, sha256, format, file_bytes, packets, bytes, status, ingested_at, sensor) VALUES (?, ?, ?, 'unknown', ?, 0, 0, 'partial', make_timestamp_ns(CAST(? AS BIGINT)), ?)`, [
      captureId,
      path,
      sha,
      size,
      startedText,
      opts.sensor ?? null,
    ]);
  } else {
    await deleteCaptureRows(conn, captureId);
    await exec(conn, `UPDATE captures SET path = ?, status = 'partial', error = NULL, ingested_at = make_timestamp_ns(CAST(? AS BIGINT)), sensor = ? WHERE capture_id = ?`, [path, startedText, opts.sensor ?? null, captureId]);
  }

  // Standard input is hashed as it is read.
  let stdinHash: ReturnType<typeof createHash> | null = null;
  let stdin = opts.stdin;
  if (isStdin) {
    const h = createHash('sha256');
    stdinHash = h;
    // A Transform, not a 'data' listener on a PassThrough: a listener would start the flow at once and the bytes that
    // came before the reader was attached (while the store was being prepared) would be lost.
    const tee = new Transform({
      highWaterMark: 1 << 20,
      transform(chunk: Buffer, _enc, done) {
        h.update(chunk);
        done(null, chunk);
      },
    });
    (opts.stdin ?? process.stdin).pipe(tee);
    stdin = tee;
  }

  await conn.run('BEGIN TRANSACTION');
  let committed = false;
  try {
    // capture_id is the same in every row: set by the writers, not carried by each row object.
    const fixed = { fixed: { capture_id: captureId } };
    const flowsW = await conn.writer(tableDef('flows'), fixed);
    const anomW = await conn.writer(tableDef('anomalies'), fixed);
    let nflows = 0;
    let nanom = 0;
    const im = noIm();
    const analyze = opts.analyze ?? true;
    const imWriters = new Map<string, RowWriter>();
    if (analyze) for (const t of ANALYZER_TABLES) imWriters.set(t, await conn.writer(tableDef(t), fixed));
    const imRow = (table: string, row: ImRow) => {
      if (table === 'anomalies') {
        nanom++;
        anomW.append(row);
        return;
      }
      const w = imWriters.get(table);
      if (w === undefined) throw new Error(`an IM analyzer wrote to ${table}, which is not an IM table`);
      w.append(row);
      if (table in im) im[table as keyof ImCounts]++;
    };
    const fillFlow = flowFiller(analyze);
    const writeFlow = (f: Flow) => {
      nflows++;
      if (analyze) {
        const v = flowVerdict(f);
        if (v !== null && v.app !== null) im.imFlows++;
      }
      // Straight into the column buffers: no row object per flow (flowFiller).
      flowsW.appendWith(fillFlow, f);
      if (f.anomalies) {
        const [es, en] = flowEnd(f);
        for (const [code, n] of f.anomalies) {
          nanom++;
          anomW.append({ ts: [es, en], flow_id: f.id, code, detail: `${n} time${n === 1 ? '' : 's'} in the flow` });
        }
      }
    };
    // The same pass as `inspect --flows` (decode, flow table, first/last time), with each flow written as it ends.
    const readOpts: ReadOptions = {};
    if (stdin) readOpts.stdin = stdin;
    if (opts.beforeRead) readOpts.beforeRead = opts.beforeRead;
    if (opts.onProgress) readOpts.onProgress = opts.onProgress;
    const flowLimits = opts.flowLimits ? { flowLimits: opts.flowLimits } : {};
    const dispatcher = analyze
      ? new Dispatcher(defaultRegistry(), {
          output: { row: imRow },
          onFlowEnd: writeFlow,
          extract: { dir: opts.extractDir ?? null, prefix: `c${captureId}` },
          rules: opts.rules ?? loadAppRules(),
          names: opts.names ?? new DnsCache(),
        })
      : null;
    const { summary, stats } = await inspectCapture(path, readOpts, dispatcher ? { handler: dispatcher, ...flowLimits } : { onFlow: writeFlow, ...flowLimits });
    const { firstSec, firstNsec, lastSec, lastNsec, bytes } = stats;
    const has = summary.packets > 0;
    const at: [number, number] = has ? [lastSec, lastNsec] : started;
    for (const [code, n] of Object.entries(stats.anomalies())) {
      nanom++;
      anomW.append({ ts: at, flow_id: null, code, detail: `${n} packet${n === 1 ? '' : 's'}` });
    }
    for (const i of summary.issues.list) {
      nanom++;
      anomW.append({ ts: at, flow_id: null, code: `capture_${i.code}`, detail: i.message, file_offset: i.offset });
    }
    await flowsW.close();
    await anomW.close();
    for (const w of imWriters.values()) await w.close();

    if (sha === null) {
      sha = stdinHash ? stdinHash.digest('hex') : await lateHash!;
      const same = await scalarRows(conn, 'SELECT capture_id, status FROM captures WHERE sha256 = ? AND capture_id <> ?', [sha, captureId]);
      const done = same.find((r) => r.status === 'complete');
      if (done && !opts.replace) {
        await conn.run('ROLLBACK');
        committed = true;
        await exec(conn, 'DELETE FROM captures WHERE capture_id = ?', [captureId]);
        return { path, captureId: Number(done.capture_id), outcome: 'already', sha256: sha, status: 'complete', packets: summary.packets, flows: 0, anomalies: 0, im: noIm(), summary };
      }
      // The same bytes ingested before under another name (interrupted, or replaced now): this ingest supersedes them.
      for (const r of same) {
        await deleteCaptureRows(conn, Number(r.capture_id));
        await exec(conn, 'DELETE FROM captures WHERE capture_id = ?', [Number(r.capture_id)]);
      }
    }
    if (opts.afterRows) await opts.afterRows(conn, captureId);
    const damage = summary.issues.list.filter((i) => isDamage(i.code));
    const status = summary.issues.damaged ? 'partial' : 'complete';
    const format = `${summary.format === 'pcap' && summary.precision === 'nanoseconds' ? 'pcap-ns' : summary.format}${summary.compression ? '+gzip' : ''}`;
    const fileBytes = size;
    const nsOf = (s: number, n: number) => (BigInt(s) * 1_000_000_000n + BigInt(n)).toString();
    await exec(
      conn,
      `UPDATE captures SET sha256 = ?, format = ?, file_bytes = ?, packets = ?, bytes = ?, ts_first = ${has ? 'make_timestamp_ns(CAST(? AS BIGINT))' : 'NULL'}, ts_last = ${has ? 'make_timestamp_ns(CAST(? AS BIGINT))' : 'NULL'}, status = ?, error = ? WHERE capture_id = ?`,
      [
        sha,
        format,
        fileBytes,
        summary.packets,
        bytes,
        ...(has ? [nsOf(firstSec, firstNsec), nsOf(lastSec, lastNsec)] : []),
        status,
        damage.length > 0 ? damage.map((d) => `${d.code} at byte ${d.offset}`).join('; ') : null,
        captureId,
      ],
    );
    await conn.run('COMMIT');
    committed = true;
    return { path, captureId, outcome, sha256: sha, status, packets: summary.packets, flows: nflows, anomalies: nanom, im, summary };
  } catch (e) {
    if (!committed) await conn.run('ROLLBACK').catch(() => {});
    // The capture could not be read at all: record it as failed (its row stays, with the reason).
    await exec(conn, "UPDATE captures SET status = 'failed', error = ? WHERE capture_id = ?", [e instanceof Error ? e.message : String(e), captureId]).catch(() => {});
    throw e;
  }
}

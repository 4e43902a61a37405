/**
 * How `imtap live` writes: rows are kept in memory and, every `--flush-every` and at shutdown, written in one
 * transaction with the database opened for just that long (open, append, update the capture row, commit, close).
 *
 * Why not keep the file open: DuckDB lets one process open a file for writing and then no other process may open it
 * at all, not even read-only; a cron report must succeed while `live` runs. Between flushes the file is closed, and
 * a report that starts during a flush waits for it (`openForReading` retries while the file is busy). The reverse
 * also holds: while a report reads, a flush cannot open the file; its rows stay in memory and are written at the
 * next interval. A crash or power loss loses at most the rows of one interval (plus any interval that could not be
 * written because the file was busy).
 *
 * The buffer is bounded (`maxRows`): past it, rows are counted and left out (an anomaly row says how many), so that
 * a database that stays busy cannot exhaust memory.
 */
import { openStore, type Store } from '../store/db.js';
import { tableDef } from '../store/schema.js';
import { TableWriter, type Row } from '../store/writer.js';

export const DEFAULT_MAX_BUFFERED_ROWS = 500_000;

/** True for DuckDB's error when another process has the file open. */
export function isBusyError(e: unknown): boolean {
  return /Could not set lock on file|Conflicting lock is held/i.test(e instanceof Error ? e.message : String(e));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Opens the database for writing, retrying while another process holds it, for up to `waitMs`. */
export async function openWhenFree(db: string, waitMs: number): Promise<Store> {
  const until = Date.now() + waitMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      return await openStore(db);
    } catch (e) {
      if (!isBusyError(e) || Date.now() + delay > until) throw e;
      await sleep(delay);
    }
  }
}

/** Rows waiting for the next flush, per table, in arrival order. */
export class RowBuffer {
  private rows = new Map<string, Row[]>();
  private n = 0;
  /** Rows left out because the buffer was full, since the start. */
  overflowed = 0;

  constructor(readonly maxRows: number = DEFAULT_MAX_BUFFERED_ROWS) {}

  get size(): number {
    return this.n;
  }

  add(table: string, row: Row): void {
    if (this.n >= this.maxRows) {
      this.overflowed++;
      return;
    }
    let list = this.rows.get(table);
    if (list === undefined) this.rows.set(table, (list = []));
    list.push(row);
    this.n++;
  }

  /** Everything buffered, leaving the buffer empty (rows that arrive during a flush go to the next one). */
  take(): Map<string, Row[]> {
    const r = this.rows;
    this.rows = new Map();
    this.n = 0;
    return r;
  }

  /** Puts back rows a failed flush took (before anything that came since). */
  putBack(batch: Map<string, Row[]>): void {
    for (const [table, rows] of batch) {
      const now = this.rows.get(table) ?? [];
      this.rows.set(table, rows.concat(now));
      this.n += rows.length;
    }
  }
}

/** A copy of an analyzer row that survives the packet callback (byte arrays may be views into the read buffer). */
export function keepRow(row: Readonly<Record<string, unknown>>, captureId: number): Row {
  const out: Record<string, unknown> = {};
  for (const k in row) {
    const v = row[k];
    out[k] = v instanceof Uint8Array ? v.slice() : Array.isArray(v) ? [v[0], v[1]] : v;
  }
  out.capture_id = captureId;
  return out as Row;
}

/** The figures of the capture row and of one capture_stats row. */
export interface CaptureFigures {
  packets: number;
  bytes: number;
  /** First and last packet time as nanoseconds since the epoch (text: beyond 2^53), or null before any packet. */
  firstNs: string | null;
  lastNs: string | null;
  status: 'partial' | 'complete';
  error: string | null;
  stats: {
    iface: string;
    received: number | null;
    droppedKernel: number | null;
    droppedInterface: number | null;
    ifRxPackets: number | null;
    ifRxDropped: number | null;
  };
}

const nowNs = () => (BigInt(Date.now()) * 1_000_000n).toString();

/** Creates the session's `captures` row (status partial) and returns its id; the file is closed afterwards. */
export async function createLiveCapture(db: string, iface: string, sensor: string | null, waitMs: number): Promise<{ captureId: number; created: boolean; migratedFrom: number | null }> {
  const store = await openWhenFree(db, waitMs);
  try {
    const c = store.connection;
    const r = await c.runAndReadAll('SELECT coalesce(max(capture_id), 0) + 1 AS id FROM captures');
    const captureId = Number(r.getRowObjects()[0]!.id);
    const st = await c.prepare(
      `INSERT INTO captures (capture_id, path, sha256, format, file_bytes, packets, bytes, status, ingested_at, sensor) VALUES ($1, $2, NULL, 'pcap', NULL, 0, 0, 'partial', make_timestamp_ns(CAST($3 AS BIGINT)), $4)`,
    );
    st.bindBigInt(1, BigInt(captureId));
    st.bindVarchar(2, `live:${iface}`);
    st.bindVarchar(3, nowNs());
    if (sensor === null) st.bindNull(4);
    else st.bindVarchar(4, sensor);
    await st.run();
    return { captureId, created: store.created, migratedFrom: store.migratedFrom };
  } finally {
    store.close();
  }
}

/** Removes the capture row of a session that never captured (the tool did not start). */
export async function dropLiveCapture(db: string, captureId: number, waitMs: number): Promise<void> {
  const store = await openWhenFree(db, waitMs);
  try {
    const st = await store.connection.prepare('DELETE FROM captures WHERE capture_id = $1');
    st.bindBigInt(1, BigInt(captureId));
    await st.run();
  } finally {
    store.close();
  }
}

export interface FlushResult {
  rows: number;
  /** Rows refused by a table's checks (left out, counted). */
  refused: number;
  ms: number;
}

/**
 * Writes `batch` and the capture figures in one transaction. On failure nothing is written and the error is thrown
 * (the caller puts the rows back). `waitMs`: how long to wait for a reader to let go of the file.
 */
export async function flushBatch(db: string, captureId: number, batch: Map<string, Row[]>, fig: CaptureFigures, waitMs: number): Promise<FlushResult> {
  const t0 = Date.now();
  const store = await openWhenFree(db, waitMs);
  const c = store.connection;
  let rows = 0;
  let refused = 0;
  try {
    await c.run('BEGIN TRANSACTION');
    try {
      for (const [table, list] of batch) {
        if (list.length === 0) continue;
        const w = await TableWriter.open(c, tableDef(table), { batchRows: Math.min(2048, list.length) });
        for (const row of list) {
          try {
            w.append(row);
            rows++;
          } catch {
            refused++;
          }
        }
        await w.close();
      }
      const has = fig.firstNs !== null && fig.lastNs !== null;
      // Parameters in order of the `?` marks (the timestamps as text: nanosecond counts exceed 2^53).
      const up = await c.prepare(
        `UPDATE captures SET packets = ?, bytes = ?, ts_first = ${has ? 'make_timestamp_ns(CAST(? AS BIGINT))' : 'NULL'}, ts_last = ${has ? 'make_timestamp_ns(CAST(? AS BIGINT))' : 'NULL'}, status = ?, error = ? WHERE capture_id = ?`,
      );
      let i = 1;
      up.bindBigInt(i++, BigInt(fig.packets));
      up.bindBigInt(i++, BigInt(fig.bytes));
      if (has) {
        up.bindVarchar(i++, fig.firstNs!);
        up.bindVarchar(i++, fig.lastNs!);
      }
      up.bindVarchar(i++, fig.status);
      if (fig.error === null) up.bindNull(i++);
      else up.bindVarchar(i++, fig.error);
      up.bindBigInt(i++, BigInt(captureId));
      await up.run();
      const s = fig.stats;
      const sw = await TableWriter.open(c, tableDef('capture_stats'), { batchRows: 1 });
      const ns = BigInt(nowNs());
      sw.append({
        ts: [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)],
        capture_id: captureId,
        flow_id: null,
        interface: s.iface,
        packets: fig.packets,
        bytes: fig.bytes,
        received: s.received,
        dropped_kernel: s.droppedKernel,
        dropped_interface: s.droppedInterface,
        if_rx_packets: s.ifRxPackets,
        if_rx_dropped: s.ifRxDropped,
      });
      await sw.close();
      await c.run('COMMIT');
    } catch (e) {
      await c.run('ROLLBACK').catch(() => {});
      throw e;
    }
  } finally {
    store.close();
  }
  return { rows, refused, ms: Date.now() - t0 };
}

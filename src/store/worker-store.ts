/**
 * WorkerStore: an imtap database owned by a worker thread (store-worker.ts), so that DuckDB's work — appending,
 * compressing, checkpointing, and loading DuckDB itself — runs beside the thread that decodes packets and builds
 * rows instead of after it. The rows are built here exactly as by TableWriter (rows.ts: the same checks, the same
 * errors, thrown at once) and handed over a batch at a time, in DuckDB's vector layout, by transferring the
 * buffers (no copy). This thread loads neither DuckDB nor Arrow.
 *
 *     const store = await openWorkerStore('imtap.duckdb');
 *     await store.run('BEGIN TRANSACTION');
 *     const w = await store.writer(tableDef('flows'));
 *     w.append({ ts_start: [sec, nsec], capture_id: 1, ... });        // same as TableWriter
 *     await w.close();                                                 // every row is in DuckDB when this resolves
 *     const rows = await store.query('SELECT count(*) AS n FROM flows WHERE capture_id = ?', [1]);
 *     await store.run('COMMIT');
 *     await store.close();                                             // DuckDB checkpoints the file
 *
 * Requests (SQL, batches, flush, close) are carried out in the order they were made. Memory stays bounded: when
 * `maxBatchesInFlight` batches wait for DuckDB, `append` blocks this thread (Atomics.wait) until one is written.
 *
 * Errors: a bad row throws from `append`, as with TableWriter. A batch DuckDB refuses (a constraint, a full disk)
 * fails its writer: the error, naming the table and DuckDB's reason, is thrown by the writer's next `append` that
 * ends a batch, and by its `flush` and `close`; rows already appended stay in the open transaction for the caller to
 * roll back. If the worker thread dies, every pending and later call fails; what DuckDB had committed is in the file
 * and what it had not is not (DuckDB's write-ahead log).
 */
import os from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { transferables, type CellValue, type RawBatch } from './columns.js';
import type { OpenOptions } from './db.js';
import type { SqlStore } from './local-store.js';
import { RowBatcher, type DirectFill, type Row } from './rows.js';
import type { TableDef } from './schema.js';
import { ERROR_FLAG, GONE, IN_FLIGHT, SHARED_INTS, type ErrorInfo, type OpenedInfo, type Reply, type Request, type SqlParam, type WorkerInit } from './worker-protocol.js';

export type { SqlParam } from './worker-protocol.js';

export interface WorkerStoreOptions extends OpenOptions {
  /**
   * DuckDB settings applied after opening, as SQL values (`{ threads: '1' }`). Unless `threads` is given, DuckDB uses
   * one thread less than the machine's cores while a writer is open (the caller's thread is busy building rows then:
   * on two cores, a second DuckDB thread only competes with it), and every core otherwise (commits, checkpoints).
   */
  settings?: Readonly<Record<string, string>>;
  /** Batches handed to the worker and not yet appended before `append` waits; default 8. */
  maxBatchesInFlight?: number;
}

export interface WorkerWriterOptions {
  /** Rows per batch handed to the worker; default 2048 (DuckDB's vector size). */
  batchRows?: number;
  /** Columns with the same value in every row (rows need not name them): see RowBatcher. */
  fixed?: Row;
}

/** The rows a query returns, as objects of plain JS values (BIGINT as bigint). */
export type QueryRow = Record<string, unknown>;

const MAX_BATCH_ROWS = 1 << 20;

/** The worker's module: the compiled .js next to this file, or the .ts source when run from source (tests). */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './store-worker.ts' : './store-worker.js', import.meta.url);

function toError(info: ErrorInfo): Error {
  const e = new Error(info.message);
  e.name = info.name;
  return e;
}

/** A store worker started ahead of time, loading DuckDB, not yet told which file to open. */
let warm: Worker | null = null;

/**
 * Starts the store's worker thread now, before the database is named, so that loading DuckDB (a 70 MB library:
 * about a quarter of a second) overlaps whatever this thread does next (reading the command line, loading the
 * decoders). The next `openWorkerStore` uses it. An unused one does not keep the process alive. Returns its thread id
 * (WorkerStore.threadId of the store that uses it).
 */
export function prewarmStoreWorker(): number {
  if (warm !== null) return warm.threadId;
  const w = new Worker(WORKER_URL, { workerData: null });
  warm = w;
  w.unref();
  // A worker that failed to start is not used: openWorkerStore starts another, which reports the error.
  w.on('error', () => {});
  w.once('exit', () => {
    if (warm === w) warm = null;
  });
  return w.threadId;
}

/** Opens (creating or migrating if needed) the imtap database at `path` in a worker thread. */
export async function openWorkerStore(path: string, options: WorkerStoreOptions = {}): Promise<WorkerStore> {
  const { settings = {}, maxBatchesInFlight = 8, ...open } = options;
  if (!Number.isInteger(maxBatchesInFlight) || maxBatchesInFlight < 1) throw new RangeError(`maxBatchesInFlight ${maxBatchesInFlight}: must be an integer of 1 or more`);
  const channel = new MessageChannel();
  const shared = new SharedArrayBuffer(SHARED_INTS * 4);
  const cores = os.availableParallelism();
  const threads = 'threads' in settings || 'worker_threads' in settings ? null : { writing: Math.max(1, cores - 1), idle: cores };
  const init: WorkerInit = { path, options: open, settings, threads, shared, replies: channel.port2 };
  let worker: Worker;
  if (warm !== null) {
    worker = warm;
    warm = null;
    worker.ref();
    worker.postMessage({ init }, [channel.port2]);
  } else {
    worker = new Worker(WORKER_URL, { workerData: init, transferList: [channel.port2] });
  }
  const port = channel.port1;
  return new Promise<WorkerStore>((resolve, reject) => {
    const early = (m: Reply): void => {
      port.off('message', early);
      worker.off('exit', exited);
      worker.off('error', failed);
      if (m.op === 'ready') resolve(new WorkerStore(path, worker, port, new Int32Array(shared), m.info, maxBatchesInFlight));
      else {
        port.close();
        reject(m.op === 'openFailed' ? toError(m.error) : new Error(`${path}: the store worker answered ${m.op} before opening`));
      }
    };
    const failed = (e: Error): void => {
      port.close();
      reject(new Error(`${path}: the store worker failed while opening: ${e.message}`, { cause: e }));
    };
    const exited = (code: number): void => {
      port.close();
      reject(new Error(`${path}: the store worker exited (code ${code}) while opening`));
    };
    port.on('message', early);
    worker.once('error', failed);
    worker.once('exit', exited);
  });
}

export class WorkerStore implements SqlStore {
  readonly version: number;
  readonly migratedFrom: number | null;
  readonly created: boolean;
  private nextId = 1;
  private nextWriter = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly writers = new Map<number, WorkerTableWriter>();
  /** Why this store takes no more requests (closed, or the worker is gone). */
  private dead: Error | null = null;
  private readonly exited: Promise<number>;

  /** @internal (use openWorkerStore) */
  constructor(
    readonly path: string,
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly shared: Int32Array,
    info: OpenedInfo,
    private readonly maxInFlight: number,
  ) {
    this.version = info.version;
    this.migratedFrom = info.migratedFrom;
    this.created = info.created;
    port.on('message', (m: Reply) => this.dispatch(m));
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.on('error', (e) => this.gone(new Error(`${path}: the store worker failed: ${e.message}`, { cause: e })));
    worker.once('exit', (code) => this.gone(new Error(`${path}: the store worker exited (code ${code})`)));
    // Like a DuckDB connection, an idle store does not keep the process alive; a pending request does.
    worker.unref();
    port.unref();
  }

  /** The worker thread's id. */
  get threadId(): number {
    return this.worker.threadId;
  }

  /** Runs a statement and returns its rows. Parameters `?` are bound in order. */
  async query(sql: string, params: readonly SqlParam[] = []): Promise<QueryRow[]> {
    return (await this.request({ op: 'query', id: 0, sql, params })) as QueryRow[];
  }

  /** Runs a statement (or several, without parameters) for its effect. */
  async run(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    await this.request({ op: 'run', id: 0, sql, params });
  }

  /** A writer for `table` (the table must exist with the declared columns). */
  async writer(table: TableDef, options: WorkerWriterOptions = {}): Promise<WorkerTableWriter> {
    const batchRows = options.batchRows ?? 2048;
    if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > MAX_BATCH_ROWS) {
      throw new RangeError(`batchRows ${batchRows} for ${table.name}: must be an integer from 1 to ${MAX_BATCH_ROWS}`);
    }
    const wid = this.nextWriter++;
    const w = new WorkerTableWriter(this, wid, table, batchRows, options.fixed);
    await this.request({ op: 'writer', id: 0, wid, table });
    this.writers.set(wid, w);
    return w;
  }

  /** Closes the writers and the database (DuckDB checkpoints the file) and ends the worker. Safe to call twice. */
  async close(): Promise<void> {
    this.worker.ref(); // until it has exited
    if (this.dead === null) {
      try {
        await this.request({ op: 'close', id: 0 });
      } finally {
        this.gone(new Error(`${this.path}: the store is closed`));
      }
    }
    await this.exited;
  }

  /**
   * Stops the worker at once, as a crash would: nothing is committed or checkpointed. What DuckDB had committed is
   * in the file (its write-ahead log) and is there at the next open; an open transaction is gone.
   */
  async terminate(): Promise<void> {
    this.worker.ref();
    this.gone(new Error(`${this.path}: the store worker was terminated`));
    await this.worker.terminate();
  }

  /** @internal A request and its reply. */
  request(m: Request & { id: number }): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.port.ref();
      this.worker.postMessage({ ...m, id });
    });
  }

  /** @internal Hands a batch over, waiting while too many are in flight; throws if its writer has failed. */
  postBatch(w: WorkerTableWriter, batch: RawBatch): void {
    const s = this.shared;
    this.check(w);
    while (Atomics.load(s, IN_FLIGHT) >= this.maxInFlight) {
      const n = Atomics.load(s, IN_FLIGHT);
      if (n < this.maxInFlight) break;
      Atomics.wait(s, IN_FLIGHT, n, 1000);
      this.check(w);
    }
    Atomics.add(s, IN_FLIGHT, 1);
    this.worker.postMessage({ op: 'batch', wid: w.wid, batch } satisfies Request, transferables(batch));
  }

  /** @internal Reads the worker's reports if it raised one; throws the writer's error, or the store's. */
  check(w: WorkerTableWriter): void {
    const s = this.shared;
    if (Atomics.load(s, ERROR_FLAG) !== 0) {
      Atomics.store(s, ERROR_FLAG, 0);
      for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) this.dispatch(m.message as Reply);
    }
    if (w.failure) throw w.failure;
    if (Atomics.load(s, GONE) !== 0 && this.dead === null) this.gone(new Error(`${this.path}: the store worker exited`));
    if (this.dead) throw this.dead;
  }

  /** @internal */
  forget(wid: number): void {
    this.writers.delete(wid);
  }

  private dispatch(m: Reply): void {
    if (m.op === 'writerFailed') {
      const w = this.writers.get(m.wid);
      if (w && !w.failure) w.failure = toError(m.error);
      return;
    }
    if (m.op !== 'done' && m.op !== 'failed') return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.port.unref();
    if (m.op === 'done') p.resolve(m.result);
    else p.reject(toError(m.error));
  }

  private gone(why: Error): void {
    if (this.dead) return;
    // Replies already received are read before the pending requests are given up.
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) this.dispatch(m.message as Reply);
    this.dead = why;
    for (const p of this.pending.values()) p.reject(why);
    this.pending.clear();
    this.port.close();
  }
}

/** TableWriter's counterpart for a WorkerStore: rows are checked and laid out here, written by the worker. */
export class WorkerTableWriter {
  /** Rows handed to the worker so far (all of them written once close() resolves). */
  rowsWritten = 0;
  /** Batches handed to the worker so far. */
  batchesWritten = 0;
  /** @internal Set when DuckDB refused a batch. */
  failure: Error | null = null;
  private readonly batcher: RowBatcher;
  private closed = false;

  /** @internal (use WorkerStore.writer) */
  constructor(
    private readonly store: WorkerStore,
    readonly wid: number,
    readonly table: TableDef,
    batchRows: number,
    fixed?: Row,
  ) {
    this.batcher = new RowBatcher(table, batchRows, fixed);
  }

  /** Rows buffered and not yet handed to the worker. */
  get pending(): number {
    return this.batcher.rows;
  }

  /** Appends a row given by column name; a column left out is NULL. An unknown name throws. */
  append(row: Row): void {
    if (this.closed) this.assertOpen();
    if (this.batcher.add(row)) this.emit();
  }

  /** Appends a row given as values in the table's column order (all columns; null for NULL). */
  appendRow(values: readonly CellValue[]): void {
    if (this.closed) this.assertOpen();
    if (this.batcher.addValues(values)) this.emit();
  }

  /** Appends a row written by `fill(cols, r, arg)` through the columns' setters (RowBatcher.addWith). */
  appendWith<T>(fill: DirectFill<T>, arg: T): void {
    if (this.closed) this.assertOpen();
    if (this.batcher.addWith(fill, arg)) this.emit();
  }

  /** Appends a batch in DuckDB's layout (its buffers are transferred: unusable here afterwards). */
  appendRaw(batch: RawBatch): void {
    this.assertOpen();
    this.emit();
    this.hand(batch);
  }

  /** Hands buffered rows over and flushes the appender in the worker; resolves with the rows written there. */
  async flush(): Promise<number> {
    this.assertOpen();
    this.emit();
    return (await this.store.request({ op: 'flush', id: 0, wid: this.wid })) as number;
  }

  /** Hands buffered rows over and closes the appender; resolves once every row is in DuckDB. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let err: unknown = null;
    try {
      this.emit();
    } catch (e) {
      err = e;
    }
    // The appender is closed in the worker even when this writer failed, so that it holds nothing.
    try {
      const rows = (await this.store.request({ op: 'closeWriter', id: 0, wid: this.wid })) as number;
      if (err === null && rows !== this.rowsWritten) err = new Error(`${this.table.name}: ${this.rowsWritten} rows handed to the store worker, ${rows} written`);
    } catch (e) {
      err ??= this.failure ?? e;
    } finally {
      this.store.forget(this.wid);
    }
    if (err !== null) throw err;
  }

  private emit(): void {
    if (this.failure) throw this.failure;
    const raw = this.batcher.take();
    if (raw !== null) this.hand(raw);
  }

  private hand(raw: RawBatch): void {
    this.store.postBatch(this, raw);
    this.rowsWritten += raw.rows;
    this.batchesWritten++;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`writer for ${this.table.name} is closed (${this.rowsWritten} rows written)`);
    if (this.failure) throw this.failure;
  }
}

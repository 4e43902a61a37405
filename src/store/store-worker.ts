/**
 * The store's worker thread: owns the DuckDB database of a WorkerStore (worker-store.ts) and carries out its
 * requests in the order they were posted: SQL statements, and batches of rows (RawBatch, in DuckDB's vector layout)
 * copied into data chunks through each table's appender (chunk-copy.ts). DuckDB's share of a write — appending,
 * compressing row groups, checkpointing — runs here, beside the thread that builds the rows.
 *
 * A batch that DuckDB refuses makes its writer fail: the error is reported at once (a message and a shared flag),
 * later batches of that writer are dropped, and the rows appended before stay where they are, inside the caller's
 * transaction, for the caller to roll back. Nothing is committed that the caller did not commit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { ChunkCopier } from './chunk-copy.js';
import { openStore, type Store } from './db.js';
import { runSql } from './sql.js';
import { ERROR_FLAG, errorInfo, GONE, IN_FLIGHT, type Reply, type Request, type WorkerInit } from './worker-protocol.js';
import type { TableDef } from './schema.js';

interface OpenWriter {
  table: TableDef;
  appender: DuckDBAppender;
  copier: ChunkCopier;
  rows: number;
  batches: number;
  error: Error | null;
}

// A worker started ahead of time (prewarmStoreWorker: DuckDB loads while the command line is still being read) gets
// its WorkerInit in its first message; one started by openWorkerStore gets it as workerData.
const init: WorkerInit =
  workerData !== null && typeof workerData === 'object' && 'path' in workerData
    ? (workerData as WorkerInit)
    : await new Promise<WorkerInit>((resolve) => parentPort!.once('message', (m: { init: WorkerInit }) => resolve(m.init)));
const shared = new Int32Array(init.shared);
const replies = init.replies;
const writers = new Map<number, OpenWriter>();
let store: Store | null = null;

// However the thread ends, a client waiting for room in the queue must not wait for ever.
process.on('exit', () => {
  Atomics.store(shared, GONE, 1);
  Atomics.notify(shared, IN_FLIGHT);
});

function reply(m: Reply): void {
  replies.postMessage(m);
}

/** Reports an error the client did not ask about: the message first, then the flag that tells it to look. */
function raise(m: Reply): void {
  reply(m);
  Atomics.store(shared, ERROR_FLAG, 1);
  Atomics.notify(shared, IN_FLIGHT);
}

let threadsNow = 0;
async function setThreads(conn: DuckDBConnection, when: 'writing' | 'idle'): Promise<void> {
  const n = init.threads?.[when];
  if (n === undefined || n === threadsNow) return;
  await conn.run(`SET threads = ${n}`);
  threadsNow = n;
}

function writerOf(wid: number): OpenWriter {
  const w = writers.get(wid);
  if (w === undefined) throw new Error(`no open writer ${wid} in the store worker`);
  return w;
}

function failWriter(wid: number, w: OpenWriter, e: unknown, what: string): void {
  const cause = e instanceof Error ? e : new Error(String(e));
  w.error = new Error(`${w.table.name}: ${what} failed after ${w.rows} rows: ${cause.message}`, { cause });
  raise({ op: 'writerFailed', wid, error: errorInfo(w.error) });
}

async function handle(m: Request): Promise<void> {
  if (m.op === 'batch') {
    try {
      const w = writers.get(m.wid);
      if (w === undefined || w.error !== null) return;
      try {
        w.copier.append(m.batch);
        w.rows += m.batch.rows;
        w.batches++;
      } catch (e) {
        failWriter(m.wid, w, e, `appending rows ${w.rows}–${w.rows + m.batch.rows - 1}`);
      }
    } finally {
      Atomics.sub(shared, IN_FLIGHT, 1);
      Atomics.notify(shared, IN_FLIGHT);
    }
    return;
  }
  try {
    const conn = store!.connection;
    let result: unknown;
    switch (m.op) {
      case 'query':
      case 'run':
        result = await runSql(conn, m.sql, m.params, m.op === 'query');
        break;
      case 'writer': {
        if (writers.size === 0) await setThreads(conn, 'writing');
        const appender = await conn.createAppender(m.table.name);
        try {
          writers.set(m.wid, { table: m.table, appender, copier: new ChunkCopier(appender, m.table), rows: 0, batches: 0, error: null });
        } catch (e) {
          appender.closeSync();
          throw e;
        }
        break;
      }
      case 'flush': {
        const w = writerOf(m.wid);
        if (w.error) throw w.error;
        try {
          w.appender.flushSync();
        } catch (e) {
          failWriter(m.wid, w, e, 'flushing');
          throw w.error;
        }
        result = w.rows;
        break;
      }
      case 'closeWriter': {
        const w = writerOf(m.wid);
        writers.delete(m.wid);
        try {
          w.appender.closeSync();
        } catch (e) {
          if (!w.error) failWriter(m.wid, w, e, 'closing the appender');
        }
        if (writers.size === 0) await setThreads(conn, 'idle');
        if (w.error) throw w.error;
        result = w.rows;
        break;
      }
      case 'close':
        closeAll();
        break;
    }
    reply({ op: 'done', id: m.id, result });
  } catch (e) {
    reply({ op: 'failed', id: m.id, error: errorInfo(e) });
  }
  if (m.op === 'close') {
    replies.close();
    parentPort!.close();
  }
}

function closeAll(): void {
  for (const w of writers.values()) {
    try {
      w.appender.closeSync();
    } catch {
      // the store is closing: what the appender held is dropped with the connection's open transaction
    }
  }
  writers.clear();
  store?.close();
  store = null;
}

// Requests are carried out one at a time, in order; SQL is awaited before the next request starts.
const queue: Request[] = [];
let head = 0;
let busy = false;
async function pump(): Promise<void> {
  busy = true;
  while (head < queue.length) {
    const m = queue[head]!;
    queue[head++] = undefined as never;
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    await handle(m);
  }
  busy = false;
}

try {
  store = await openStore(init.path, init.options);
  for (const [name, value] of Object.entries(init.settings)) await store.connection.run(`SET ${name} = ${value}`);
  await setThreads(store.connection, 'idle');
  reply({ op: 'ready', info: { version: store.version, migratedFrom: store.migratedFrom, created: store.created } });
  parentPort!.on('message', (m: Request) => {
    queue.push(m);
    if (!busy) void pump();
  });
} catch (e) {
  store?.close();
  reply({ op: 'openFailed', error: errorInfo(e) });
  replies.close();
  parentPort!.close();
}

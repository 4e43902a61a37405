/**
 * Messages between a WorkerStore (worker-store.ts, the thread that builds rows) and its worker thread
 * (store-worker.ts, which owns the DuckDB database). Requests go to the worker in order and are carried out in
 * order; replies come back on a MessagePort that the client may also read synchronously (receiveMessageOnPort), so
 * that a writer learns of a failed batch without giving up the thread.
 *
 * Shared state (an Int32Array on a SharedArrayBuffer): the batches posted and not yet appended, for backpressure
 * (the client waits with Atomics.wait when too many are in flight, so memory stays bounded whatever the speed of
 * DuckDB), and a flag raised with each error report, so that the client knows to read its port.
 */
import type { MessagePort } from 'node:worker_threads';
import type { RawBatch } from './columns.js';
import type { OpenOptions } from './db.js';
import type { TableDef } from './schema.js';

/** Indexes in the shared Int32Array. */
export const IN_FLIGHT = 0;
export const ERROR_FLAG = 1;
/** Set by the worker as it exits, whatever the reason. */
export const GONE = 2;
export const SHARED_INTS = 3;

/** A SQL parameter: numbers that are integers are bound as BIGINT, other numbers as DOUBLE. */
export type SqlParam = string | number | bigint | boolean | null;

export interface WorkerInit {
  path: string;
  options: Omit<OpenOptions, never>;
  /** DuckDB settings to SET after opening (name → value as SQL text). */
  settings: Readonly<Record<string, string>>;
  /**
   * DuckDB's threads while writers are open (the caller's thread is busy building rows, so one core is left to it),
   * and while none is (commits and checkpoints may use every core); null when `settings` fixes the threads.
   */
  threads: { writing: number; idle: number } | null;
  shared: SharedArrayBuffer;
  replies: MessagePort;
}

export type Request =
  | { op: 'query'; id: number; sql: string; params: readonly SqlParam[] }
  | { op: 'run'; id: number; sql: string; params: readonly SqlParam[] }
  | { op: 'writer'; id: number; wid: number; table: TableDef }
  | { op: 'batch'; wid: number; batch: RawBatch }
  | { op: 'flush'; id: number; wid: number }
  | { op: 'closeWriter'; id: number; wid: number }
  | { op: 'close'; id: number };

export interface OpenedInfo {
  version: number;
  migratedFrom: number | null;
  created: boolean;
}

export type Reply =
  | { op: 'ready'; info: OpenedInfo }
  | { op: 'openFailed'; error: ErrorInfo }
  | { op: 'done'; id: number; result?: unknown }
  | { op: 'failed'; id: number; error: ErrorInfo }
  /** A batch (or the writer's flush) failed in DuckDB: the writer takes no more rows. */
  | { op: 'writerFailed'; wid: number; error: ErrorInfo };

export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string | undefined;
}

export function errorInfo(e: unknown): ErrorInfo {
  return e instanceof Error ? { name: e.name, message: e.message, stack: e.stack } : { name: 'Error', message: String(e) };
}

/**
 * TableWriter: the way rows get into an imtap table. Rows are accumulated column-wise (column-buffer.ts); when
 * `batchRows` are held, or on flush(), they become an Arrow RecordBatch, which is handed to `onBatch` (Arrow
 * export, worker threads) and copied column-wise into DuckDB data chunks through the table's appender
 * (chunk-copy.ts). This is several times faster than appending value by value and about 100 times faster than
 * INSERT statements (see bench/writer.mjs).
 *
 *     const w = await TableWriter.open(store.connection, tableDef('flows'), { batchRows: 2048 });
 *     w.append({ ts_start: [sec, nsec], capture_id: 1, flow_id: 7, ... });   // or w.appendRow([...]) in column order
 *     await w.close();                                                       // flushes; w.rowsWritten
 *
 * Rows are visible to other connections once flushed. A row that fails a check (unknown column, NULL in a NOT NULL
 * column, a value of the wrong type or out of range) throws and is left out; the rows before it are kept.
 */
import type { DuckDBConnection, DuckDBAppender } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { ChunkCopier, VECTOR_SIZE } from './chunk-copy.js';
import { arrowSchema, columnBuffers, type CellValue, type ColumnBuffer } from './column-buffer.js';
import type { TableDef } from './schema.js';

export type { CellValue, Timestamp } from './column-buffer.js';
export type Row = Readonly<Record<string, CellValue>>;

export interface WriterOptions {
  /** Rows per batch (and per Arrow RecordBatch); default 2048, DuckDB's vector size. */
  batchRows?: number;
  /**
   * Called with each batch before it goes to DuckDB. The batch owns its buffers (the writer starts new ones), so
   * it may be kept, exported or transferred to another thread.
   */
  onBatch?: (batch: arrow.RecordBatch, table: TableDef) => void;
}

/** The most rows a batch may hold: large batches only cost memory, DuckDB takes 2048 at a time anyway. */
export const MAX_BATCH_ROWS = 1 << 20;

export class TableWriter {
  /** Rows handed to DuckDB so far. */
  rowsWritten = 0;
  /** Batches handed to DuckDB so far. */
  batchesWritten = 0;
  readonly schema: arrow.Schema;
  private readonly cols: ColumnBuffer[];
  private readonly index = new Map<string, number>();
  private readonly required: number[];
  private readonly copier: ChunkCopier;
  private readonly batchRows: number;
  private readonly onBatch: WriterOptions['onBatch'];
  private rows = 0;
  private closed = false;

  private constructor(
    private readonly appender: DuckDBAppender,
    readonly table: TableDef,
    options: WriterOptions,
  ) {
    const batchRows = options.batchRows ?? VECTOR_SIZE;
    if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > MAX_BATCH_ROWS) {
      throw new RangeError(`batchRows ${batchRows} for ${table.name}: must be an integer from 1 to ${MAX_BATCH_ROWS}`);
    }
    this.batchRows = batchRows;
    this.onBatch = options.onBatch;
    this.copier = new ChunkCopier(appender, table);
    this.cols = columnBuffers(table, batchRows);
    table.columns.forEach((c, i) => this.index.set(c.name, i));
    this.required = table.columns.flatMap((c, i) => (c.nullable ? [] : [i]));
    this.schema = arrowSchema(table);
  }

  /** A writer for `table` on `connection` (the table must exist with the declared columns). */
  static async open(connection: DuckDBConnection, table: TableDef, options: WriterOptions = {}): Promise<TableWriter> {
    const appender = await connection.createAppender(table.name);
    try {
      return new TableWriter(appender, table, options);
    } catch (err) {
      appender.closeSync();
      throw err;
    }
  }

  /** Rows buffered and not yet handed to DuckDB. */
  get pending(): number {
    return this.rows;
  }

  /** Appends a row given by column name; a column left out is NULL. An unknown name throws. */
  append(row: Row): void {
    this.assertOpen();
    const r = this.rows;
    try {
      for (const key in row) {
        const c = this.index.get(key);
        if (c === undefined) throw new Error(`${this.table.name} has no column ${key} (columns: ${this.table.columns.map((x) => x.name).join(', ')})`);
        this.cols[c]!.set(r, row[key]);
      }
      for (const c of this.required) {
        const col = this.cols[c]!;
        if (!col.isSet(r)) throw new TypeError(`${this.table.name}.${col.name} is NOT NULL; row ${r} of the batch leaves it out`);
      }
    } catch (err) {
      for (const col of this.cols) col.clear(r);
      throw err;
    }
    this.endRow();
  }

  /** Appends a row given as values in the table's column order (all columns; null for NULL). */
  appendRow(values: readonly CellValue[]): void {
    this.assertOpen();
    if (values.length !== this.cols.length) {
      throw new RangeError(`${this.table.name} row has ${values.length} values, the table ${this.cols.length} columns`);
    }
    const r = this.rows;
    try {
      for (let c = 0; c < values.length; c++) this.cols[c]!.set(r, values[c]);
    } catch (err) {
      for (const col of this.cols) col.clear(r);
      throw err;
    }
    this.endRow();
  }

  /**
   * Appends a RecordBatch built elsewhere (a worker thread, another writer's onBatch) with this table's columns.
   * Buffered rows go first, so the order of rows is kept.
   */
  appendBatch(batch: arrow.RecordBatch): void {
    this.assertOpen();
    this.emit();
    this.copier.append(batch);
    this.rowsWritten += batch.numRows;
    this.batchesWritten++;
  }

  /** The buffered rows as a RecordBatch, which is then written like a full one; null when nothing is buffered. */
  toArrowBatch(): arrow.RecordBatch | null {
    return this.emit();
  }

  /** Hands buffered rows to DuckDB and flushes the appender, so other connections see them. */
  async flush(): Promise<void> {
    this.assertOpen();
    this.emit();
    this.appender.flushSync();
  }

  /** Flushes and closes the appender. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.emit();
    this.closed = true;
    this.appender.closeSync();
  }

  private endRow(): void {
    if (++this.rows === this.batchRows) this.emit();
  }

  private emit(): arrow.RecordBatch | null {
    const n = this.rows;
    if (n === 0) return null;
    const children = this.cols.map((c) => c.toArrow(n));
    const batch = new arrow.RecordBatch(this.schema, arrow.makeData({ type: new arrow.Struct(this.schema.fields), length: n, nullCount: 0, children }));
    // Fresh buffers before anything can throw, so a failed copy does not leave these rows to be written again.
    this.rows = 0;
    for (const c of this.cols) c.reset();
    this.onBatch?.(batch, this.table);
    this.copier.append(batch);
    this.rowsWritten += n;
    this.batchesWritten++;
    return batch;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`writer for ${this.table.name} is closed (${this.rowsWritten} rows written)`);
  }
}

/**
 * RawBatch → DuckDB, column by column: the column buffers (columns.ts) are already in DuckDB's vector layout, so
 * each column of a 2048-row chunk is one memcpy (`copy_data_to_vector`), its validity bitmap another. Strings of up
 * to 12 bytes are inline in their 16-byte slots and go with that memcpy. Longer ones are in the column's heap, their
 * slots holding offsets: the heap bytes the chunk needs are copied into the vector's own string heap in one call (as
 * the value of row 0, which is then overwritten), the address DuckDB gave them is read back from row 0's slot, and
 * the offsets become pointers before the slots are copied. One native call per column instead of one per string.
 * The chunk then goes to the appender, which copies the strings into its own storage before returning.
 *
 * Why the raw bindings: @duckdb/node-api's typed vectors set values one at a time, with a BigInt per int64 and a
 * BigInt shift per validity bit, which is several times slower than the memcpy; its `vector_assign_string_element`
 * takes a C string, which would cut a value at its first NUL. @duckdb/node-bindings is the package node-api itself
 * is built on; both are pinned to the same exact version in package.json because the chunk handles of one native
 * library must not reach another.
 *
 * The layouts need a little-endian machine (x86-64, arm64), which is checked at load.
 */
import duckdb from '@duckdb/node-bindings';
import { DuckDBDataChunk, type DuckDBAppender } from './duckdb.js';
import { INLINE, KIND, Kind, WIDTH, type RawBatch, type RawColumn } from './columns.js';
import type { TableDef } from './schema.js';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('imtap storage needs a little-endian machine: column buffers are copied into DuckDB vectors as they are');
}

/** Rows in one DuckDB data chunk (DuckDB's vector size, 2048). */
export const VECTOR_SIZE = duckdb.vector_size();

const TWO32 = 4294967296;

/**
 * Copies batches of one table into its appender, reusing one data chunk. Checks at construction that the appender's
 * columns are the table's, by type and number, since the copy is by position.
 */
export class ChunkCopier {
  private readonly chunk: DuckDBDataChunk;
  private readonly kinds: Kind[];
  /** Slots of one vector with pointers filled in, for string columns with long values. */
  private readonly scratch = new Int32Array(VECTOR_SIZE * 4);
  /** Per column: how far through the batch's long rows the copy is. */
  private readonly cursor: number[];

  constructor(
    private readonly appender: DuckDBAppender,
    private readonly table: TableDef,
  ) {
    const n = appender.columnCount;
    if (n !== table.columns.length) {
      throw new Error(`table ${table.name} has ${n} columns in the database, ${table.columns.length} in schema.ts`);
    }
    const types = table.columns.map((c, i) => {
      const t = appender.columnType(i);
      if (t.toString() !== c.type) throw new Error(`column ${table.name}.${c.name} is ${t.toString()} in the database, ${c.type} in schema.ts`);
      return t;
    });
    this.chunk = DuckDBDataChunk.create(types);
    this.kinds = table.columns.map((c) => KIND[c.type]);
    this.cursor = table.columns.map(() => 0);
  }

  /** Appends every row of `batch` (whose columns must be the table's, in order). */
  append(batch: RawBatch): void {
    const cols = batch.columns;
    if (cols.length !== this.kinds.length) {
      throw new Error(`batch for ${this.table.name} has ${cols.length} columns, the table ${this.kinds.length}`);
    }
    this.cursor.fill(0);
    const raw = this.chunk.chunk;
    for (let start = 0; start < batch.rows; start += VECTOR_SIZE) {
      const rows = Math.min(VECTOR_SIZE, batch.rows - start);
      duckdb.data_chunk_reset(raw);
      for (let c = 0; c < cols.length; c++) this.fill(duckdb.data_chunk_get_vector(raw, c), cols[c]!, c, start, rows);
      duckdb.data_chunk_set_size(raw, rows);
      this.appender.appendDataChunk(this.chunk);
    }
  }

  /** Rows [start, start + rows) of column `c`; `start` is a multiple of the vector size (so of 64). */
  private fill(vec: duckdb.Vector, col: RawColumn, c: number, start: number, rows: number): void {
    const v = col.validity;
    if (v !== null) {
      duckdb.vector_ensure_validity_writable(vec);
      duckdb.copy_data_to_vector_validity(vec, 0, v.buffer as ArrayBuffer, v.byteOffset + start / 8, Math.ceil(rows / 8));
    }
    const kind = this.kinds[c]!;
    const d = col.data;
    const width = WIDTH[kind];
    if (kind !== Kind.STR && kind !== Kind.BLOB) {
      duckdb.copy_data_to_vector(vec, 0, d.buffer as ArrayBuffer, d.byteOffset + start * width, rows * width);
      return;
    }
    const long = col.longRows!;
    const end = start + rows;
    const first = this.cursor[c]!;
    let last = first;
    while (last < long.length && long[last]! < end) last++;
    this.cursor[c] = last;
    if (last === first) {
      duckdb.copy_data_to_vector(vec, 0, d.buffer as ArrayBuffer, d.byteOffset + start * 16, rows * 16);
      return;
    }
    // Slots of this vector, and the heap range its long values use.
    const slots = new Int32Array(d.buffer, d.byteOffset + start * 16, rows * 4);
    const out = this.scratch;
    out.set(slots);
    let lo = Infinity;
    let hi = 0;
    for (let j = first; j < last; j++) {
      const o = (long[j]! - start) * 4;
      const at = out[o + 2]!;
      const n = out[o]!;
      if (at < lo) lo = at;
      if (at + n > hi) hi = at + n;
    }
    duckdb.vector_assign_string_element_len(vec, 0, col.heap!.subarray(lo, hi));
    const head = duckdb.vector_get_data(vec, 16);
    const len = head[0]! | (head[1]! << 8) | (head[2]! << 16) | (head[3]! << 24);
    if (len !== hi - lo || len <= INLINE) {
      throw new Error(`${this.table.name}.${this.table.columns[c]!.name}: DuckDB kept ${len} bytes of ${hi - lo} for the long strings of rows ${start}–${end - 1}`);
    }
    const base = (head[8]! | (head[9]! << 8) | (head[10]! << 16)) + head[11]! * 0x1000000 + (head[12]! + head[13]! * 256 + head[14]! * 65536 + head[15]! * 0x1000000) * TWO32;
    for (let j = first; j < last; j++) {
      const o = (long[j]! - start) * 4;
      const p = base + (out[o + 2]! - lo);
      out[o + 2] = p % TWO32;
      out[o + 3] = Math.floor(p / TWO32);
    }
    duckdb.copy_data_to_vector(vec, 0, out.buffer, 0, rows * 16);
  }
}

/**
 * Arrow RecordBatch → DuckDB, column by column: each column's buffer is copied into a data chunk's vector with one
 * memcpy (`copy_data_to_vector`), its validity bitmap with another; strings of up to 12 bytes are laid out inline and
 * copied the same way, longer ones assigned one by one with their byte length. The chunk then goes to the appender.
 *
 * Why the raw bindings: @duckdb/node-api's typed vectors set values one at a time, with a BigInt per int64 and a
 * BigInt shift per validity bit, which is several times slower than the memcpy; its `vector_assign_string_element`
 * takes a C string, which would cut a value at its first NUL. @duckdb/node-bindings is the package node-api itself
 * is built on; both are pinned to the same exact version in package.json because the chunk handles of one native
 * library must not reach another.
 *
 * The layouts match without conversion on a little-endian machine (x86-64, arm64): Arrow's int64/timestamp[ns]/
 * int32/uint16/uint8/float64 are DuckDB's BIGINT/TIMESTAMP_NS/INTEGER/USMALLINT/UTINYINT/DOUBLE, and Arrow's
 * validity bits are DuckDB's (least significant bit first, 1 = valid). Booleans are bit-packed in Arrow and a byte
 * each in DuckDB, so they are unpacked.
 */
import duckdb from '@duckdb/node-bindings';
import { DuckDBDataChunk, type DuckDBAppender } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { arrowType } from './column-buffer.js';
import type { TableDef } from './schema.js';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('imtap storage needs a little-endian machine: Arrow buffers are copied into DuckDB vectors as they are');
}

/** Rows in one DuckDB data chunk (DuckDB's vector size, 2048). */
export const VECTOR_SIZE = duckdb.vector_size();

/**
 * Copies batches of one table into its appender, reusing one data chunk. Checks at construction that the appender's
 * columns are the table's, by type and number, since the copy is by position.
 */
export class ChunkCopier {
  private readonly chunk: DuckDBDataChunk;
  private readonly widths: number[];
  private readonly typeIds: arrow.Type[];
  private readonly boolScratch = new Uint8Array(VECTOR_SIZE);
  /** Inline string slots for one vector, and the rows whose string is too long to be inline. */
  private readonly slots = new Uint8Array(VECTOR_SIZE * 16);
  private readonly slotLengths = new Uint32Array(this.slots.buffer);
  private readonly longRows = new Int32Array(VECTOR_SIZE);

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
    this.typeIds = table.columns.map((c) => arrowType(c.type).typeId);
    this.widths = table.columns.map((c) => {
      const t = arrowType(c.type) as arrow.DataType & { ArrayType?: { BYTES_PER_ELEMENT?: number } };
      return c.type === 'VARCHAR' || c.type === 'BLOB' || c.type === 'BOOLEAN' ? 0 : (t.ArrayType?.BYTES_PER_ELEMENT ?? 0);
    });
  }

  /** Appends every row of `batch` (whose columns must be the table's, in order and type). */
  append(batch: arrow.RecordBatch): void {
    const cols = batch.data.children;
    if (cols.length !== this.table.columns.length) {
      throw new Error(`batch for ${this.table.name} has ${cols.length} columns, the table ${this.table.columns.length}`);
    }
    cols.forEach((d, i) => {
      if (d.type.typeId !== this.typeIds[i]) {
        throw new Error(`batch column ${i + 1} for ${this.table.name}.${this.table.columns[i]!.name} is ${d.type}, expected ${arrowType(this.table.columns[i]!.type)}`);
      }
    });
    for (let start = 0; start < batch.numRows; start += VECTOR_SIZE) {
      const rows = Math.min(VECTOR_SIZE, batch.numRows - start);
      this.chunk.reset();
      const raw = this.chunk.chunk;
      for (let c = 0; c < cols.length; c++) this.fill(duckdb.data_chunk_get_vector(raw, c), cols[c]!, c, start, rows);
      this.chunk.rowCount = rows;
      this.appender.appendDataChunk(this.chunk);
    }
  }

  /**
   * Rows [start, start + rows) of column `d`. A sliced Arrow Data (offset > 0) has its values and value offsets
   * already sliced (index from 0) but its validity and boolean bitmaps not (index from the offset): hence `bit`.
   */
  private fill(vec: duckdb.Vector, d: arrow.Data, c: number, start: number, rows: number): void {
    const bit = d.offset + start;
    const hasNulls = d.nullCount > 0 && d.nullBitmap !== undefined && d.nullBitmap.length > 0;
    if (hasNulls) {
      duckdb.vector_ensure_validity_writable(vec);
      let bits = d.nullBitmap!;
      let from = bit >> 3;
      // Bits not on a byte boundary (a sliced batch) are realigned; the writer's own batches never need it.
      if ((bit & 7) !== 0) {
        bits = shiftBits(bits, bit, rows);
        from = 0;
      }
      duckdb.copy_data_to_vector_validity(vec, 0, bits.buffer as ArrayBuffer, bits.byteOffset + from, Math.ceil(rows / 8));
    }
    const width = this.widths[c]!;
    if (width > 0) {
      const values = d.values as Int32Array;
      duckdb.copy_data_to_vector(vec, 0, values.buffer as ArrayBuffer, values.byteOffset + start * width, rows * width);
    } else if (d.typeId === arrow.Type.Bool) {
      const out = this.boolScratch;
      const bits = d.values as Uint8Array;
      for (let i = 0; i < rows; i++) {
        const b = bit + i;
        out[i] = (bits[b >> 3]! >> (b & 7)) & 1;
      }
      duckdb.copy_data_to_vector(vec, 0, out.buffer, out.byteOffset, rows);
    } else {
      this.fillStrings(vec, d, start, bit, rows, hasNulls);
    }
  }

  /**
   * VARCHAR and BLOB. A DuckDB string is a 16-byte `duckdb_string_t` (C API header): a uint32 length, then up to 12
   * bytes inline, or a 4-byte prefix and a pointer into the vector's own string heap. Values of 12 bytes or less —
   * most addresses, codes and names here — are laid out inline in one buffer copied with a single memcpy (the unused
   * inline bytes stay zero, as DuckDB compares them); longer ones are then assigned one by one with their length,
   * which copies them into the vector's heap.
   */
  private fillStrings(vec: duckdb.Vector, d: arrow.Data, start: number, bit: number, rows: number, hasNulls: boolean): void {
    const offsets = d.valueOffsets as Int32Array;
    const bytes = d.values as Uint8Array;
    const validity = d.nullBitmap;
    const slots = this.slots;
    const slotLen = this.slotLengths;
    slots.fill(0, 0, rows * 16);
    let long = 0;
    for (let i = 0; i < rows; i++) {
      const v = bit + i;
      if (hasNulls && !((validity![v >> 3]! >> (v & 7)) & 1)) continue;
      const r = start + i;
      const from = offsets[r]!;
      const len = offsets[r + 1]! - from;
      if (len <= 12) {
        slotLen[i * 4] = len;
        const o = i * 16 + 4;
        for (let k = 0; k < len; k++) slots[o + k] = bytes[from + k]!;
      } else {
        this.longRows[long++] = i;
      }
    }
    duckdb.copy_data_to_vector(vec, 0, slots.buffer, 0, rows * 16);
    for (let j = 0; j < long; j++) {
      const i = this.longRows[j]!;
      const r = start + i;
      duckdb.vector_assign_string_element_len(vec, i, bytes.subarray(offsets[r]!, offsets[r + 1]!));
    }
  }
}

/** Validity bits [at, at + rows) moved to start at bit 0. */
function shiftBits(bits: Uint8Array, at: number, rows: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(rows / 64) * 8);
  for (let i = 0; i < rows; i++) {
    const b = at + i;
    if ((bits[b >> 3]! >> (b & 7)) & 1) out[i >> 3]! |= 1 << (i & 7);
  }
  return out;
}

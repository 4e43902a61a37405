/**
 * Arrow views of the column buffers (columns.ts): a batch of rows as an Apache Arrow RecordBatch (for Arrow IPC
 * export and for callers of TableWriter's `onBatch`), and an Arrow RecordBatch back into DuckDB's layout (for
 * `TableWriter.appendBatch`). The writers themselves never need Arrow: it is loaded only by whoever imports this
 * file.
 *
 * Numeric columns become Arrow data without a copy (int64 and timestamps are the same bytes); booleans are
 * bit-packed; strings and blobs are gathered from their 16-byte slots and heap into Arrow's offsets and bytes.
 */
import * as arrow from 'apache-arrow';
import { ColumnBuffer as CoreColumnBuffer, INLINE, KIND, Kind, WIDTH, type RawBatch, type RawColumn } from './columns.js';
import type { DuckType, TableDef } from './schema.js';

export type { CellValue, Timestamp } from './columns.js';

/** The Arrow type a DuckDB column type is exported as (the same mapping DuckDB's own Arrow export uses). */
export function arrowType(t: DuckType): arrow.DataType {
  switch (t) {
    case 'BIGINT':
      return new arrow.Int64();
    case 'TIMESTAMP_NS':
      return new arrow.TimestampNanosecond();
    case 'INTEGER':
      return new arrow.Int32();
    case 'USMALLINT':
      return new arrow.Uint16();
    case 'UTINYINT':
      return new arrow.Uint8();
    case 'DOUBLE':
      return new arrow.Float64();
    case 'BOOLEAN':
      return new arrow.Bool();
    case 'VARCHAR':
      return new arrow.Utf8();
    case 'BLOB':
      return new arrow.Binary();
  }
}

export function arrowSchema(table: TableDef): arrow.Schema {
  return new arrow.Schema(table.columns.map((c) => new arrow.Field(c.name, arrowType(c.type), c.nullable)));
}

/** A column buffer that can also hand its rows over as Arrow data. */
export class ColumnBuffer extends CoreColumnBuffer {
  /** This column's rows [0, rows) as Arrow data (sharing the buffers: call reset() before filling again). */
  toArrow(rows: number): arrow.Data {
    return rawToArrowData(this.take(rows), this.def.type, rows);
  }
}

/** Every column of `table` as a buffer of `capacity` rows that can become Arrow data. */
export function columnBuffers(table: TableDef, capacity: number): ColumnBuffer[] {
  return table.columns.map((c) => new ColumnBuffer(table.name, c, capacity));
}

/** One column of a raw batch as Arrow data. */
export function rawToArrowData(col: RawColumn, type: DuckType, rows: number): arrow.Data {
  const kind = KIND[type];
  const v = col.validity;
  let nullCount = 0;
  if (v !== null) for (let i = 0; i < rows; i++) if (!((v[i >> 3]! >> (i & 7)) & 1)) nullCount++;
  const nullBitmap = nullCount > 0 ? v!.subarray(0, Math.ceil(rows / 8)) : undefined;
  const base = { type: arrowType(type), offset: 0, length: rows, nullCount, nullBitmap } as const;
  const d = col.data;
  switch (kind) {
    case Kind.I64:
    case Kind.TS:
      return arrow.makeData({ ...base, data: new BigInt64Array(d.buffer, d.byteOffset, rows) } as never);
    case Kind.I32:
      return arrow.makeData({ ...base, data: new Int32Array(d.buffer, d.byteOffset, rows) } as never);
    case Kind.U16:
      return arrow.makeData({ ...base, data: new Uint16Array(d.buffer, d.byteOffset, rows) } as never);
    case Kind.U8:
      return arrow.makeData({ ...base, data: d.subarray(0, rows) } as never);
    case Kind.F64:
      return arrow.makeData({ ...base, data: new Float64Array(d.buffer, d.byteOffset, rows) } as never);
    case Kind.BOOL: {
      const bits = new Uint8Array(Math.ceil(rows / 64) * 8);
      for (let i = 0; i < rows; i++) if (d[i]) bits[i >> 3]! |= 1 << (i & 7);
      return arrow.makeData({ ...base, data: bits } as never);
    }
    case Kind.STR:
    case Kind.BLOB: {
      const offsets = new Int32Array(rows + 1);
      const slots = new Int32Array(d.buffer, d.byteOffset, rows * 4);
      let total = 0;
      for (let i = 0; i < rows; i++) {
        total += slots[4 * i]!;
        offsets[i + 1] = total;
      }
      const bytes = new Uint8Array(total);
      const heap = col.heap!;
      for (let i = 0; i < rows; i++) {
        const n = slots[4 * i]!;
        const at = offsets[i]!;
        if (n <= INLINE) for (let k = 0; k < n; k++) bytes[at + k] = d[16 * i + 4 + k]!;
        else bytes.set(heap.subarray(slots[4 * i + 2]!, slots[4 * i + 2]! + n), at);
      }
      return arrow.makeData({ ...base, valueOffsets: offsets, data: bytes } as never);
    }
  }
}

/** A raw batch as an Arrow RecordBatch of `table`'s schema. */
export function rawToArrow(batch: RawBatch, table: TableDef, schema: arrow.Schema = arrowSchema(table)): arrow.RecordBatch {
  const children = batch.columns.map((c, i) => rawToArrowData(c, table.columns[i]!.type, batch.rows));
  return new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: batch.rows, nullCount: 0, children }));
}

/**
 * An Arrow RecordBatch with `table`'s columns (in order and type, checked) as a raw batch. A sliced batch (offset > 0)
 * has its values and value offsets already sliced (index from 0) but its validity and boolean bitmaps not (index from
 * the offset).
 */
export function arrowToRaw(batch: arrow.RecordBatch, table: TableDef): RawBatch {
  const cols = batch.data.children;
  if (cols.length !== table.columns.length) {
    throw new Error(`batch for ${table.name} has ${cols.length} columns, the table ${table.columns.length}`);
  }
  const rows = batch.numRows;
  const columns = cols.map((d, i): RawColumn => {
    const def = table.columns[i]!;
    const want = arrowType(def.type);
    if (d.type.typeId !== want.typeId) throw new Error(`batch column ${i + 1} for ${table.name}.${def.name} is ${d.type}, expected ${want}`);
    const buf = new CoreColumnBuffer(table.name, def, rows);
    const kind = KIND[def.type];
    const valid = (r: number): boolean => {
      if (d.nullCount === 0 || d.nullBitmap === undefined || d.nullBitmap.length === 0) return true;
      const b = d.offset + r;
      return ((d.nullBitmap[b >> 3]! >> (b & 7)) & 1) === 1;
    };
    if (kind === Kind.STR || kind === Kind.BLOB) {
      const offsets = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      for (let r = 0; r < rows; r++) if (valid(r)) buf.setBytes(r, bytes.subarray(offsets[r]!, offsets[r + 1]!));
      return buf.take(rows);
    }
    if (kind === Kind.BOOL) {
      const bits = d.values as Uint8Array;
      for (let r = 0; r < rows; r++) {
        if (!valid(r)) continue;
        const b = d.offset + r;
        buf.setBool(r, ((bits[b >> 3]! >> (b & 7)) & 1) === 1);
      }
      return buf.take(rows);
    }
    const width = WIDTH[kind];
    const values = d.values as Uint8Array;
    const data = new Uint8Array(rows * width);
    data.set(new Uint8Array(values.buffer, values.byteOffset, rows * width));
    let validity: Uint8Array | null = null;
    if (d.nullCount > 0 && d.nullBitmap !== undefined && d.nullBitmap.length > 0) {
      validity = new Uint8Array(Math.ceil(rows / 64) * 8);
      for (let r = 0; r < rows; r++) if (valid(r)) validity[r >> 3]! |= 1 << (r & 7);
    }
    return { data, validity, heap: null, longRows: null };
  });
  return { rows, columns };
}

/**
 * Column buffers: one table's rows accumulated column by column in typed arrays (numbers) and plain arrays (strings,
 * bytes), and turned into an Apache Arrow RecordBatch when full. Numeric columns become Arrow data without a copy;
 * strings are encoded to UTF-8 once, into the Arrow buffer that the DuckDB copy (chunk-copy.ts) then reads too.
 *
 * Value conventions (what `set` accepts; anything else throws, naming the table, column, row and value):
 * - BIGINT: a safe-integer number or a bigint in the int64 range.
 * - INTEGER / USMALLINT / UTINYINT: an integer number in the type's range. DOUBLE: any number.
 * - BOOLEAN: a boolean. BLOB: a Uint8Array (Buffer included). VARCHAR: a string.
 * - TIMESTAMP_NS: `[seconds, nanoseconds]` since the epoch (how the capture readers keep time), or a bigint of
 *   nanoseconds. The pair is turned into int64 nanoseconds without BigInt and without rounding (see `putTs`).
 * - null or undefined: SQL NULL; refused for a NOT NULL column.
 *
 * Strings: a JS string is UTF-16 and may hold lone surrogates, which have no UTF-8 form; they are written as U+FFFD
 * (the replacement character), as TextEncoder does. Every other code point is kept as it is, NUL, control
 * characters and quotes included: the value is passed to DuckDB with its length, never as a C string, so a NUL
 * does not cut it short. Bytes that were not valid text on the wire are the decoder's business: it decides the
 * string (and may keep the bytes in a BLOB column).
 */
import * as arrow from 'apache-arrow';
import type { ColumnDef, DuckType, TableDef } from './schema.js';

export type Timestamp = readonly [seconds: number, nanoseconds: number];
export type CellValue = number | bigint | string | boolean | Uint8Array | Timestamp | null | undefined;

/** How a column is held while rows accumulate. */
const enum Kind {
  I64, // BIGINT: Int32Array pairs (low, high), i.e. little-endian int64 without BigInt
  TS, // TIMESTAMP_NS: same layout, nanoseconds since the epoch
  I32,
  U16,
  U8,
  F64,
  BOOL, // one byte per value while accumulating (DuckDB's layout); bit-packed for Arrow
  STR,
  BLOB,
}

const KIND: Record<DuckType, Kind> = {
  BIGINT: Kind.I64,
  TIMESTAMP_NS: Kind.TS,
  INTEGER: Kind.I32,
  USMALLINT: Kind.U16,
  UTINYINT: Kind.U8,
  DOUBLE: Kind.F64,
  BOOLEAN: Kind.BOOL,
  VARCHAR: Kind.STR,
  BLOB: Kind.BLOB,
};

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

const TWO32 = 4294967296;
const EMPTY_I32 = new Int32Array(0);
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U16 = new Uint16Array(0);
const EMPTY_U8 = new Uint8Array(0);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const RANGE: Partial<Record<Kind, [number, number]>> = {
  [Kind.I32]: [-2147483648, 2147483647],
  [Kind.U16]: [0, 65535],
  [Kind.U8]: [0, 255],
};

/**
 * One column's values for the batch being filled. A single class with a field per storage kind (unused ones empty)
 * keeps the per-value path monomorphic.
 */
export class ColumnBuffer {
  readonly kind: Kind;
  readonly name: string;
  private readonly values?: ReadonlySet<string>;
  i32 = EMPTY_I32;
  f64 = EMPTY_F64;
  u16 = EMPTY_U16;
  u8 = EMPTY_U8;
  objs: (string | Uint8Array | null)[] = [];
  /** Validity, one bit per row (1 = not null), least significant bit first: Arrow's and DuckDB's layout alike. */
  valid = EMPTY_U8;
  /** Rows set to a value (not null) in this batch. */
  count = 0;

  constructor(
    readonly table: string,
    readonly def: ColumnDef,
    private readonly capacity: number,
  ) {
    this.kind = KIND[def.type];
    this.name = def.name;
    if (def.values !== undefined) this.values = new Set(def.values);
    this.reset();
  }

  /** Fresh arrays for the next batch: the previous batch's Arrow data keeps the old ones, so it stays valid. */
  reset(): void {
    const n = this.capacity;
    this.count = 0;
    // Whole 64-bit words: DuckDB copies validity by the word.
    this.valid = new Uint8Array(Math.ceil(n / 64) * 8);
    switch (this.kind) {
      case Kind.I64:
      case Kind.TS:
        this.i32 = new Int32Array(2 * n);
        break;
      case Kind.I32:
        this.i32 = new Int32Array(n);
        break;
      case Kind.U16:
        this.u16 = new Uint16Array(n);
        break;
      case Kind.U8:
      case Kind.BOOL:
        this.u8 = new Uint8Array(n);
        break;
      case Kind.F64:
        this.f64 = new Float64Array(n);
        break;
      case Kind.STR:
      case Kind.BLOB:
        this.objs = new Array<string | Uint8Array | null>(n).fill(null);
        break;
    }
  }

  /** Clears row `row` back to null (used to undo a row that failed half-way). */
  clear(row: number): void {
    const bit = 1 << (row & 7);
    if (this.valid[row >> 3]! & bit) {
      this.valid[row >> 3]! &= ~bit;
      this.count--;
    }
    if (this.kind === Kind.STR || this.kind === Kind.BLOB) this.objs[row] = null;
  }

  isSet(row: number): boolean {
    return (this.valid[row >> 3]! & (1 << (row & 7))) !== 0;
  }

  set(row: number, v: CellValue): void {
    if (v === null || v === undefined) {
      if (!this.def.nullable) throw this.bad(row, v, 'is NOT NULL');
      return;
    }
    switch (this.kind) {
      case Kind.I64:
        if (typeof v === 'number') {
          if (!Number.isSafeInteger(v)) throw this.bad(row, v, 'takes a safe integer (or a bigint)');
          const hi = Math.floor(v / TWO32);
          this.i32[2 * row] = v - hi * TWO32;
          this.i32[2 * row + 1] = hi;
        } else if (typeof v === 'bigint') {
          this.putBig(row, v);
        } else throw this.bad(row, v, 'takes a number or a bigint');
        break;
      case Kind.TS:
        if (Array.isArray(v)) this.putTs(row, v[0], v[1]);
        else if (typeof v === 'bigint') this.putBig(row, v);
        else throw this.bad(row, v, 'takes [seconds, nanoseconds] or a bigint of nanoseconds');
        break;
      case Kind.I32:
      case Kind.U16:
      case Kind.U8: {
        const [lo, hi] = RANGE[this.kind]!;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
          throw this.bad(row, v, `takes an integer from ${lo} to ${hi}`);
        }
        if (this.kind === Kind.I32) this.i32[row] = v;
        else if (this.kind === Kind.U16) this.u16[row] = v;
        else this.u8[row] = v;
        break;
      }
      case Kind.F64:
        if (typeof v !== 'number') throw this.bad(row, v, 'takes a number');
        this.f64[row] = v;
        break;
      case Kind.BOOL:
        if (typeof v !== 'boolean') throw this.bad(row, v, 'takes a boolean');
        this.u8[row] = v ? 1 : 0;
        break;
      case Kind.STR:
        if (typeof v !== 'string') throw this.bad(row, v, 'takes a string');
        if (this.values !== undefined && !this.values.has(v)) throw this.bad(row, v, `takes one of ${[...this.values].join(', ')}`);
        this.objs[row] = v;
        break;
      case Kind.BLOB:
        if (!(v instanceof Uint8Array)) throw this.bad(row, v, 'takes a Uint8Array');
        this.objs[row] = v;
        break;
    }
    const at = row >> 3;
    const bit = 1 << (row & 7);
    if (!(this.valid[at]! & bit)) {
      this.valid[at]! |= bit;
      this.count++;
    }
  }

  /**
   * (seconds, nanoseconds) → int64 nanoseconds as two 32-bit halves, exactly, with doubles only: seconds are split
   * at 2^16 so that every product and sum stays below 2^53. Covers 0 ≤ seconds < 2^33 (up to year 2242); other
   * seconds (before 1970) take the BigInt path.
   */
  private putTs(row: number, sec: number, nsec: number): void {
    if (!Number.isInteger(sec) || !Number.isInteger(nsec) || nsec < 0 || nsec > 999_999_999) {
      throw this.bad(row, [sec, nsec], 'takes [seconds, nanoseconds] with integer seconds and 0 ≤ nanoseconds < 1e9');
    }
    if (sec < 0 || sec >= 8589934592) return this.putBig(row, BigInt(sec) * 1_000_000_000n + BigInt(nsec));
    const a = Math.floor(sec / 65536);
    const x = a * 1e9; // < 2^47
    const y = (sec - a * 65536) * 1e9 + nsec; // < 2^46
    // total = x * 2^16 + y = xh * 2^32 + (xl * 2^16 + y)
    const xh = Math.floor(x / 65536);
    const z = (x - xh * 65536) * 65536 + y; // < 2^47
    const zh = Math.floor(z / TWO32);
    this.i32[2 * row] = z - zh * TWO32;
    this.i32[2 * row + 1] = xh + zh;
  }

  private putBig(row: number, v: bigint): void {
    if (v < INT64_MIN || v > INT64_MAX) throw this.bad(row, v, 'takes a value in the int64 range');
    this.i32[2 * row] = Number(BigInt.asIntN(32, v));
    this.i32[2 * row + 1] = Number(v >> 32n);
  }

  private bad(row: number, v: unknown, what: string): Error {
    const shown = typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v) : describe(v);
    return new TypeError(`${this.table}.${this.name} ${what}; row ${row} of the batch has ${shown}`);
  }

  /** This column's rows [0, rows) as Arrow data. */
  toArrow(rows: number): arrow.Data {
    const type = arrowType(this.def.type);
    const nullCount = rows - this.count;
    const nullBitmap = nullCount > 0 ? this.valid.subarray(0, Math.ceil(rows / 8)) : undefined;
    const base = { type, offset: 0, length: rows, nullCount, nullBitmap } as const;
    switch (this.kind) {
      case Kind.I64:
      case Kind.TS:
        return arrow.makeData({ ...base, data: new BigInt64Array(this.i32.buffer, 0, rows) } as never);
      case Kind.I32:
        return arrow.makeData({ ...base, data: this.i32.subarray(0, rows) } as never);
      case Kind.U16:
        return arrow.makeData({ ...base, data: this.u16.subarray(0, rows) } as never);
      case Kind.U8:
        return arrow.makeData({ ...base, data: this.u8.subarray(0, rows) } as never);
      case Kind.F64:
        return arrow.makeData({ ...base, data: this.f64.subarray(0, rows) } as never);
      case Kind.BOOL:
        return arrow.makeData({ ...base, data: packBits(this.u8, rows) } as never);
      case Kind.STR:
      case Kind.BLOB: {
        const [valueOffsets, data] = this.kind === Kind.STR ? encodeStrings(this.objs, rows) : concatBytes(this.objs, rows);
        return arrow.makeData({ ...base, valueOffsets, data } as never);
      }
    }
  }
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.length})`;
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  return typeof v === 'object' && v !== null ? (v.constructor?.name ?? 'object') : `${typeof v} ${String(v)}`;
}

/** Bytes of 0/1 → Arrow's bit-packed booleans. */
function packBits(bytes: Uint8Array, rows: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(rows / 64) * 8);
  for (let i = 0; i < rows; i++) if (bytes[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/**
 * Strings → UTF-8 bytes and offsets (Arrow's Utf8 layout), with Buffer#write (or a JS loop for short ASCII); room for 3 bytes per UTF-16 unit is ensured first, the most one unit can take, so a write never stops
 * short. Lone surrogates become U+FFFD.
 */
function encodeStrings(objs: readonly (string | Uint8Array | null)[], rows: number): [Int32Array, Uint8Array] {
  const offsets = new Int32Array(rows + 1);
  let units = 0;
  for (let i = 0; i < rows; i++) {
    const s = objs[i];
    if (typeof s === 'string') units += s.length;
  }
  let buf = Buffer.allocUnsafe(Math.min(units * 3, units + 65536) + 16);
  let pos = 0;
  for (let i = 0; i < rows; i++) {
    const s = objs[i];
    if (typeof s === 'string' && s.length > 0) {
      if (pos + s.length * 3 > buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + s.length * 3));
        buf.copy(bigger, 0, 0, pos);
        buf = bigger;
      }
      pos = s.length <= 32 ? writeShort(buf, pos, s) : pos + buf.write(s, pos, 'utf8');
    }
    offsets[i + 1] = pos;
  }
  return [offsets, new Uint8Array(buf.buffer, buf.byteOffset, pos)];
}

/**
 * A short string: ASCII copied by a JS loop, which beats a native call for a few bytes; at the first non-ASCII
 * unit the rest goes through Buffer#write. Returns the new position.
 */
function writeShort(buf: Buffer, pos: number, s: string): number {
  const n = s.length;
  for (let k = 0; k < n; k++) {
    const u = s.charCodeAt(k);
    if (u >= 0x80) return pos + k + buf.write(s.slice(k), pos + k, 'utf8');
    buf[pos + k] = u;
  }
  return pos + n;
}

function concatBytes(objs: readonly (string | Uint8Array | null)[], rows: number): [Int32Array, Uint8Array] {
  const offsets = new Int32Array(rows + 1);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const b = objs[i];
    if (b instanceof Uint8Array) total += b.length;
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < rows; i++) {
    const b = objs[i];
    if (b instanceof Uint8Array) data.set(b, offsets[i]!);
  }
  return [offsets, data];
}

/** Every column of `table` as a buffer of `capacity` rows. */
export function columnBuffers(table: TableDef, capacity: number): ColumnBuffer[] {
  return table.columns.map((c) => new ColumnBuffer(table.name, c, capacity));
}

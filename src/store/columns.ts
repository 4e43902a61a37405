/**
 * Column buffers: one table's rows accumulated column by column, directly in DuckDB's vector layout, and handed over
 * as a RawBatch (plain typed arrays: copied into DuckDB chunks by chunk-copy.ts on this thread, or transferred to the
 * store's worker thread without a copy). No Arrow and no DuckDB here, so that the thread that builds rows loads
 * neither; column-buffer.ts turns the same buffers into Arrow data for those who want it.
 *
 * Value conventions (what `set` accepts; anything else throws, naming the table, column, row and value):
 * - BIGINT: a safe-integer number or a bigint in the int64 range.
 * - INTEGER / USMALLINT / UTINYINT: an integer number in the type's range. DOUBLE: any number.
 * - BOOLEAN: a boolean. BLOB: a Uint8Array (Buffer included). VARCHAR: a string.
 * - TIMESTAMP_NS: `[seconds, nanoseconds]` since the epoch (how the capture readers keep time), or a bigint of
 *   nanoseconds. The pair is turned into int64 nanoseconds without BigInt and without rounding (see `putTs`).
 * - null or undefined: SQL NULL; refused for a NOT NULL column.
 *
 * Layouts (little-endian, as DuckDB's vectors): int64 and timestamps as Int32Array pairs (low, high), i.e. int64
 * without BigInt; INTEGER/USMALLINT/UTINYINT/DOUBLE as their typed arrays; BOOLEAN one byte per value; validity one
 * bit per row, least significant first (1 = valid). VARCHAR and BLOB as DuckDB's 16-byte `duckdb_string_t`: a uint32
 * length, then up to 12 bytes inline (unused bytes zero, as DuckDB compares them), or a 4-byte prefix and the offset
 * of the bytes in the column's heap, which the copy turns into a pointer (chunk-copy.ts).
 *
 * Strings: a JS string is UTF-16 and may hold lone surrogates, which have no UTF-8 form; they are written as U+FFFD
 * (the replacement character), as TextEncoder does. Every other code point is kept as it is, NUL, control
 * characters and quotes included: a value always travels with its length, never as a C string, so a NUL does not
 * cut it short. Bytes that were not valid text on the wire are the decoder's business: it decides the string (and
 * may keep the bytes in a BLOB column).
 */
import type { ColumnDef, DuckType, TableDef } from './schema.js';

export type Timestamp = readonly [seconds: number, nanoseconds: number];
export type CellValue = number | bigint | string | boolean | Uint8Array | Timestamp | null | undefined;

/** How a column is held while rows accumulate. */
export const enum Kind {
  I64, // BIGINT: Int32Array pairs (low, high)
  TS, // TIMESTAMP_NS: same layout, nanoseconds since the epoch
  I32,
  U16,
  U8,
  F64,
  BOOL, // one byte per value (DuckDB's layout)
  STR, // duckdb_string_t slots + heap
  BLOB,
}

export const KIND: Readonly<Record<DuckType, Kind>> = {
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

/** Bytes per value in the vector (16 for a string slot). */
export const WIDTH: Readonly<Record<Kind, number>> = {
  [Kind.I64]: 8,
  [Kind.TS]: 8,
  [Kind.I32]: 4,
  [Kind.U16]: 2,
  [Kind.U8]: 1,
  [Kind.F64]: 8,
  [Kind.BOOL]: 1,
  [Kind.STR]: 16,
  [Kind.BLOB]: 16,
};

/** The longest string DuckDB keeps inline in its 16-byte slot. */
export const INLINE = 12;
/** Strings up to this length are tried as ASCII by a JS loop before the native UTF-8 encoder (cheaper when short). */
const LONG_ASCII = 64;

/**
 * One column of a batch in DuckDB's vector layout. Owns its buffers: it may be kept, or transferred to another
 * thread (`transferables`).
 */
export interface RawColumn {
  /** `rows × WIDTH` bytes. */
  data: Uint8Array;
  /** Validity bits (whole 64-bit words), or null when every row is valid. */
  validity: Uint8Array | null;
  /** VARCHAR, BLOB: the bytes of values longer than 12 bytes (their slots hold offsets in it); else null. */
  heap: Uint8Array | null;
  /** VARCHAR, BLOB: the rows whose value is in the heap, ascending; else null. */
  longRows: Int32Array | null;
}

export interface RawBatch {
  rows: number;
  columns: RawColumn[];
}

/** The ArrayBuffers of a batch, for postMessage's transfer list. */
export function transferables(batch: RawBatch): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const c of batch.columns) {
    out.add(c.data.buffer as ArrayBuffer);
    if (c.validity) out.add(c.validity.buffer as ArrayBuffer);
    if (c.heap) out.add(c.heap.buffer as ArrayBuffer);
    if (c.longRows) out.add(c.longRows.buffer as ArrayBuffer);
  }
  return [...out];
}

const TWO32 = 4294967296;
const EMPTY_I32 = new Int32Array(0);
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U16 = new Uint16Array(0);
const EMPTY_U8 = new Uint8Array(0);
const EMPTY_BUF = Buffer.alloc(0);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const RANGE: Partial<Record<Kind, readonly [number, number]>> = {
  [Kind.I32]: [-2147483648, 2147483647],
  [Kind.U16]: [0, 65535],
  [Kind.U8]: [0, 255],
};

/**
 * One column's values for the batch being filled. A single class with a field per storage kind (unused ones empty)
 * keeps the generic `set` monomorphic; the writers' generated row code calls the per-kind setters directly.
 */
export class ColumnBuffer {
  readonly kind: Kind;
  readonly name: string;
  readonly nullable: boolean;
  private readonly values: ReadonlySet<string> | undefined;
  i32 = EMPTY_I32;
  f64 = EMPTY_F64;
  u16 = EMPTY_U16;
  u8 = EMPTY_U8;
  /** VARCHAR, BLOB: four int32 per row (duckdb_string_t), and the same bytes. */
  slots = EMPTY_I32;
  slotBytes = EMPTY_U8;
  heap: Buffer = EMPTY_BUF;
  heapLen = 0;
  longRows = EMPTY_I32;
  longCount = 0;
  /** The last string set and its row: a repeated value copies that row's slot instead of encoding again. */
  private lastStr: string | null = null;
  private lastRow = -1;
  /** Validity, one bit per row (1 = not null), least significant bit first: Arrow's and DuckDB's layout alike. */
  valid = EMPTY_U8;
  /** Rows set to a value (not null) in this batch. */
  count = 0;

  /** `allocate` false: no arrays yet (the caller gives them with `reset(arena, at)` before the first value). */
  constructor(
    readonly table: string,
    readonly def: ColumnDef,
    readonly capacity: number,
    allocate = true,
  ) {
    this.kind = KIND[def.type];
    this.name = def.name;
    this.nullable = def.nullable;
    this.values = def.values === undefined ? undefined : new Set(def.values);
    if (allocate) this.reset();
  }

  /** Bytes of arena a column of `kind` takes for `rows` rows (validity, values, long-row list; 8-byte aligned). */
  static arenaBytes(kind: Kind, rows: number): number {
    const words = Math.ceil(rows / 64) * 8;
    const data = Math.ceil((rows * WIDTH[kind]) / 8) * 8;
    const long = kind === Kind.STR || kind === Kind.BLOB ? Math.ceil((rows * 4) / 8) * 8 : 0;
    return words + data + long;
  }

  /**
   * Fresh arrays for the next batch: the previous batch keeps the old ones, so it stays valid. With an arena (one
   * ArrayBuffer for all the columns of a batch, so that a batch is one allocation and one transfer), the arrays are
   * views of it from byte `at`, `arenaBytes` long; else each is its own allocation.
   */
  reset(arena?: ArrayBuffer, at = 0): void {
    const n = this.capacity;
    this.count = 0;
    const own = arena === undefined;
    const buf = arena ?? new ArrayBuffer(ColumnBuffer.arenaBytes(this.kind, n));
    const base = own ? 0 : at;
    // Whole 64-bit words: DuckDB copies validity by the word.
    const words = Math.ceil(n / 64) * 8;
    this.valid = new Uint8Array(buf, base, words);
    const d = base + words;
    switch (this.kind) {
      case Kind.I64:
      case Kind.TS:
        this.i32 = new Int32Array(buf, d, 2 * n);
        break;
      case Kind.I32:
        this.i32 = new Int32Array(buf, d, n);
        break;
      case Kind.U16:
        this.u16 = new Uint16Array(buf, d, n);
        break;
      case Kind.U8:
      case Kind.BOOL:
        this.u8 = new Uint8Array(buf, d, n);
        break;
      case Kind.F64:
        this.f64 = new Float64Array(buf, d, n);
        break;
      case Kind.STR:
      case Kind.BLOB:
        this.slots = new Int32Array(buf, d, 4 * n);
        this.slotBytes = new Uint8Array(buf, d, 16 * n);
        this.longRows = new Int32Array(buf, d + 16 * n, n);
        // The heap is allocated at the first long value: most batches of most columns have none.
        this.heap = EMPTY_BUF;
        this.heapLen = 0;
        this.longCount = 0;
        this.lastStr = null;
        this.lastRow = -1;
        break;
    }
  }

  /** Clears row `row` back to null (used to undo a row that failed half-way). */
  clear(row: number): void {
    const bit = 1 << (row & 7);
    if (this.valid[row >> 3]! & bit) {
      this.valid[row >> 3]! &= ~bit;
      this.count--;
      if (this.kind === Kind.STR || this.kind === Kind.BLOB) {
        if (this.longCount > 0 && this.longRows[this.longCount - 1] === row) this.longCount--;
        this.slots.fill(0, 4 * row, 4 * row + 4);
        if (this.lastRow === row) {
          this.lastStr = null;
          this.lastRow = -1;
        }
      }
    }
  }

  isSet(row: number): boolean {
    return (this.valid[row >> 3]! & (1 << (row & 7))) !== 0;
  }

  private mark(row: number): void {
    const at = row >> 3;
    const bit = 1 << (row & 7);
    const b = this.valid[at]!;
    if (!(b & bit)) {
      this.valid[at] = b | bit;
      this.count++;
    }
  }

  /** Sets row `row` to `v` (null or undefined: NULL). */
  set(row: number, v: CellValue): void {
    if (v === null || v === undefined) {
      if (!this.nullable) throw this.bad(row, v, 'is NOT NULL');
      return;
    }
    switch (this.kind) {
      case Kind.I64:
        return this.setI64(row, v);
      case Kind.TS:
        return this.setTs(row, v);
      case Kind.I32:
        return this.setI32(row, v);
      case Kind.U16:
        return this.setU16(row, v);
      case Kind.U8:
        return this.setU8(row, v);
      case Kind.F64:
        return this.setF64(row, v);
      case Kind.BOOL:
        return this.setBool(row, v);
      case Kind.STR:
        return this.setStr(row, v);
      case Kind.BLOB:
        return this.setBlob(row, v);
    }
  }

  // Per-kind setters: `v` is not null or undefined.

  setI64(row: number, v: CellValue): void {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw this.bad(row, v, 'takes a safe integer (or a bigint)');
      if (v >= 0 && v < TWO32) {
        this.i32[2 * row] = v;
        this.i32[2 * row + 1] = 0;
      } else {
        const hi = Math.floor(v / TWO32);
        this.i32[2 * row] = v - hi * TWO32;
        this.i32[2 * row + 1] = hi;
      }
    } else if (typeof v === 'bigint') {
      this.putBig(row, v);
    } else throw this.bad(row, v, 'takes a number or a bigint');
    this.mark(row);
  }

  setTs(row: number, v: CellValue): void {
    if (Array.isArray(v)) this.putTs(row, v[0], v[1]);
    else if (typeof v === 'bigint') this.putBig(row, v);
    else throw this.bad(row, v, 'takes [seconds, nanoseconds] or a bigint of nanoseconds');
    this.mark(row);
  }

  /** A timestamp given as its two numbers (no pair to allocate); same checks as setTs. */
  setTsParts(row: number, sec: number, nsec: number): void {
    this.putTs(row, sec, nsec);
    this.mark(row);
  }

  setI32(row: number, v: CellValue): void {
    if (typeof v !== 'number' || (v | 0) !== v) throw this.badInt(row, v);
    this.i32[row] = v;
    this.mark(row);
  }

  setU16(row: number, v: CellValue): void {
    if (typeof v !== 'number' || (v & 0xffff) !== v) throw this.badInt(row, v);
    this.u16[row] = v;
    this.mark(row);
  }

  setU8(row: number, v: CellValue): void {
    if (typeof v !== 'number' || (v & 0xff) !== v) throw this.badInt(row, v);
    this.u8[row] = v;
    this.mark(row);
  }

  setF64(row: number, v: CellValue): void {
    if (typeof v !== 'number') throw this.bad(row, v, 'takes a number');
    this.f64[row] = v;
    this.mark(row);
  }

  setBool(row: number, v: CellValue): void {
    if (typeof v !== 'boolean') throw this.bad(row, v, 'takes a boolean');
    this.u8[row] = v ? 1 : 0;
    this.mark(row);
  }

  setStr(row: number, v: CellValue): void {
    if (v === this.lastStr) {
      this.copySlot(this.lastRow, row);
      return this.mark(row);
    }
    if (typeof v !== 'string') throw this.bad(row, v, 'takes a string');
    if (this.values !== undefined && !this.values.has(v)) throw this.bad(row, v, `takes one of ${[...this.values].join(', ')}`);
    const n = v.length;
    const o = 16 * row + 4;
    if (n <= INLINE) {
      // ASCII is copied by a JS loop, which beats a native call for a few bytes; anything else is encoded.
      const b = this.slotBytes;
      let k = 0;
      for (; k < n; k++) {
        const u = v.charCodeAt(k);
        if (u >= 0x80) break;
        b[o + k] = u;
      }
      if (k === n) this.slots[4 * row] = n;
      else this.putEncoded(row, v);
    } else if (n <= LONG_ASCII) {
      // The same for the heap: most long values (addresses, host names, identifiers) are ASCII too.
      this.ensureHeap(n);
      const h = this.heap;
      const at = this.heapLen;
      let k = 0;
      for (; k < n; k++) {
        const u = v.charCodeAt(k);
        if (u >= 0x80) break;
        h[at + k] = u;
      }
      if (k === n) this.putLong(row, n);
      else this.putEncoded(row, v);
    } else {
      this.putEncoded(row, v);
    }
    this.lastStr = v;
    this.lastRow = row;
    this.mark(row);
  }

  setBlob(row: number, v: CellValue): void {
    if (!(v instanceof Uint8Array)) throw this.bad(row, v, 'takes a Uint8Array');
    this.setBytes(row, v);
  }

  /** Bytes as they are, for a BLOB or for a VARCHAR whose value is already UTF-8 (not checked). */
  setBytes(row: number, v: Uint8Array): void {
    this.lastStr = null;
    const n = v.length;
    if (n <= INLINE) {
      this.slots[4 * row] = n;
      this.slotBytes.set(v, 16 * row + 4);
    } else {
      this.ensureHeap(n);
      this.heap.set(v, this.heapLen);
      this.putLong(row, n);
    }
    this.mark(row);
  }

  /** A string that needs UTF-8 encoding: into the heap, then moved inline when it turns out 12 bytes or less. */
  private putEncoded(row: number, v: string): void {
    this.ensureHeap(3 * v.length); // the most one UTF-16 unit takes
    const at = this.heapLen;
    const n = this.heap.write(v, at, 'utf8');
    if (n <= INLINE) {
      this.slots[4 * row] = n;
      const b = this.slotBytes;
      const o = 16 * row + 4;
      for (let k = 0; k < n; k++) b[o + k] = this.heap[at + k]!;
    } else {
      this.putLong(row, n);
    }
  }

  /** Row `row` holds the `n` bytes at the heap's end. */
  private putLong(row: number, n: number): void {
    const h = this.heap;
    const at = this.heapLen;
    const s = this.slots;
    s[4 * row] = n;
    s[4 * row + 1] = h[at]! | (h[at + 1]! << 8) | (h[at + 2]! << 16) | (h[at + 3]! << 24);
    s[4 * row + 2] = at;
    s[4 * row + 3] = 0;
    this.heapLen = at + n;
    this.longRows[this.longCount++] = row;
  }

  private copySlot(from: number, to: number): void {
    const s = this.slots;
    s[4 * to] = s[4 * from]!;
    s[4 * to + 1] = s[4 * from + 1]!;
    s[4 * to + 2] = s[4 * from + 2]!;
    s[4 * to + 3] = s[4 * from + 3]!;
    if (s[4 * from]! > INLINE) this.longRows[this.longCount++] = to;
  }

  private ensureHeap(more: number): void {
    const need = this.heapLen + more;
    if (need <= this.heap.length) return;
    if (need > 0x7fffffff) throw new RangeError(`${this.table}.${this.name}: more than 2 GiB of text in one batch; use smaller batches`);
    const bigger = Buffer.allocUnsafeSlow(Math.min(0x7fffffff, Math.max(this.heap.length * 2, need, 4096)));
    this.heap.copy(bigger, 0, 0, this.heapLen);
    this.heap = bigger;
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

  private badInt(row: number, v: unknown): Error {
    const [lo, hi] = RANGE[this.kind]!;
    return this.bad(row, v, `takes an integer from ${lo} to ${hi}`);
  }

  /** The error for a bad value (or a NULL where none is allowed) in row `row`. */
  bad(row: number, v: unknown, what: string): Error {
    const shown = typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v) : describe(v);
    return new TypeError(`${this.table}.${this.name} ${what}; row ${row} of the batch has ${shown}`);
  }

  /** The error for a NOT NULL column left out of a row. */
  missing(row: number): Error {
    return new TypeError(`${this.table}.${this.name} is NOT NULL; row ${row} of the batch leaves it out`);
  }

  /** This column's rows [0, rows) in DuckDB's layout; the buffers are handed over (call reset() before reuse). */
  take(rows: number): RawColumn {
    const validity = this.count === rows ? null : this.valid.subarray(0, Math.ceil(rows / 64) * 8);
    const width = WIDTH[this.kind];
    let buf: ArrayBufferView;
    switch (this.kind) {
      case Kind.I64:
      case Kind.TS:
      case Kind.I32:
        buf = this.i32;
        break;
      case Kind.U16:
        buf = this.u16;
        break;
      case Kind.F64:
        buf = this.f64;
        break;
      case Kind.U8:
      case Kind.BOOL:
        buf = this.u8;
        break;
      case Kind.STR:
      case Kind.BLOB:
        return {
          data: this.slotBytes.subarray(0, rows * 16),
          validity,
          // Never the empty placeholder: its ArrayBuffer may be Node's shared Buffer pool, which must not be transferred.
          heap: this.heapLen > 0 ? new Uint8Array(this.heap.buffer, this.heap.byteOffset, this.heapLen) : null,
          longRows: this.longRows.subarray(0, this.longCount),
        };
    }
    return { data: new Uint8Array(buf.buffer, buf.byteOffset, rows * width), validity, heap: null, longRows: null };
  }
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.length})`;
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  return typeof v === 'object' && v !== null ? (v.constructor?.name ?? 'object') : `${typeof v} ${String(v)}`;
}

/** Every column of `table` as a buffer of `capacity` rows (`allocate` false: arrays given later, see ColumnBuffer). */
export function columnBuffers(table: TableDef, capacity: number, allocate = true): ColumnBuffer[] {
  return table.columns.map((c) => new ColumnBuffer(table.name, c, capacity, allocate));
}

/** The value of row `row` of a string or blob column of a batch, as bytes (a view: copy to keep). */
export function rawBytes(col: RawColumn, row: number): Uint8Array {
  const d = col.data;
  const o = 16 * row;
  const n = d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24);
  if (n <= INLINE) return d.subarray(o + 4, o + 4 + n);
  const at = d[o + 8]! | (d[o + 9]! << 8) | (d[o + 10]! << 16) | (d[o + 11]! << 24);
  return col.heap!.subarray(at, at + n);
}

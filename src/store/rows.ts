/**
 * RowBatcher: rows of one table into column buffers (columns.ts), a RawBatch at a time. Both writers use it: the
 * one that copies into DuckDB on this thread (writer.ts) and the one that hands batches to the store's worker thread
 * (worker-store.ts).
 *
 * The per-row code is generated once per table (`new Function`, from the declared column names and types only,
 * never from input): a row object is read field by field with the names written out, so each read is a monomorphic
 * property load and each value goes straight to its column's setter for its type. A loop over the row's keys with a
 * name → column lookup and a switch on the type per value cost about three times as much (bench/writer.mjs).
 */
import { ColumnBuffer, columnBuffers, Kind, type CellValue, type RawBatch } from './columns.js';
import type { TableDef } from './schema.js';

export type Row = Readonly<Record<string, CellValue>>;

const SETTER: Record<Kind, keyof ColumnBuffer> = {
  [Kind.I64]: 'setI64',
  [Kind.TS]: 'setTs',
  [Kind.I32]: 'setI32',
  [Kind.U16]: 'setU16',
  [Kind.U8]: 'setU8',
  [Kind.F64]: 'setF64',
  [Kind.BOOL]: 'setBool',
  [Kind.STR]: 'setStr',
  [Kind.BLOB]: 'setBlob',
};

type Fill<T> = (input: T, r: number) => void;

/**
 * A row written straight into the column buffers by the caller (`RowBatcher.addWith`): `fill(cols, r, arg)` calls the
 * columns' setters for row `r` (cols in the table's order); a column it does not set is NULL.
 */
export type DirectFill<T> = (cols: readonly ColumnBuffer[], r: number, arg: T) => void;

type Factory = (cols: readonly ColumnBuffer[], unknown: (row: Row) => never, fx: CellValue[]) => { fillRow: Fill<Row>; fillValues: Fill<readonly CellValue[]>; fillFixed: (r: number) => void };
const FACTORIES = new Map<string, Factory>();

/**
 * `fillRow(row, r)`: the named fields of `row` into row `r` of the columns; throws at a bad value, a NOT NULL column
 * left out or NULL, or a name that is not a column. `fillValues(values, r)`: the same from values in column order.
 */
function generate(table: TableDef, cols: readonly ColumnBuffer[], fixed: Row): { fillRow: Fill<Row>; fillValues: Fill<readonly CellValue[]>; fillFixed: (r: number) => void } {
  const byName: string[] = [];
  const byIndex: string[] = [];
  const fx: CellValue[] = [];
  const byFixed: string[] = [];
  cols.forEach((c, i) => {
    const key = JSON.stringify(c.name);
    const set = `c${i}.${SETTER[c.kind]}(r, v)`;
    if (Object.hasOwn(fixed, c.name)) {
      // A fixed column: its value for every row, whatever the row says (a row may still name it).
      fx[i] = fixed[c.name];
      byName.push(`c${i}.${SETTER[c.kind]}(r, fx[${i}]);
  if (${key} in row) n++;`);
      byIndex.push(`c${i}.${SETTER[c.kind]}(r, fx[${i}]);`);
      byFixed.push(`c${i}.${SETTER[c.kind]}(r, fx[${i}]);`);
      return;
    }
    const ifNull = c.nullable
      ? ''
      : `throw v === undefined && !(${key} in row) ? c${i}.missing(r) : c${i}.bad(r, v, 'is NOT NULL');`;
    byName.push(`v = row[${key}];
  if (v !== undefined && v !== null) { n++; ${set}; }
  else { if (v === null || ${key} in row) n++; ${ifNull} }`);
    byIndex.push(`v = values[${i}];
  if (v !== undefined && v !== null) ${set};
  else { ${c.nullable ? '' : `throw c${i}.bad(r, v, 'is NOT NULL');`} }`);
  });
  const head = cols.map((_, i) => `const c${i} = cols[${i}];`).join('\n');
  const body = `${head}
return {
  fillRow(row, r) {
    let v, n = 0;
  ${byName.join('\n  ')}
    let k = 0;
    for (const _ in row) k++;
    if (k !== n) unknown(row);
  },
  fillValues(values, r) {
    let v;
  ${byIndex.join('\n  ')}
  },
  fillFixed(r) {
  ${byFixed.join('\n  ')}
  },
};`;
  const names = new Set(table.columns.map((c) => c.name));
  // One compiled factory per shape of table: an ingest opens the same writers for every capture.
  let factory = FACTORIES.get(body);
  if (factory === undefined) {
    factory = new Function('cols', 'unknown', 'fx', body) as Factory;
    if (FACTORIES.size < 256) FACTORIES.set(body, factory);
  }
  const unknown = (row: Row): never => {
    for (const key in row) {
      if (!names.has(key)) throw new Error(`${table.name} has no column ${key} (columns: ${table.columns.map((x) => x.name).join(', ')})`);
    }
    throw new Error(`${table.name}: row has keys that are not columns`);
  };
  return factory(cols, unknown, fx);
}

export class RowBatcher {
  readonly cols: ColumnBuffer[];
  /** Rows buffered. */
  rows = 0;
  private readonly fillRow: Fill<Row>;
  private readonly fillValues: Fill<readonly CellValue[]>;
  private readonly fillFixed: (r: number) => void;
  /** The NOT NULL columns, checked after a direct fill. */
  private readonly required: readonly ColumnBuffer[];

  private readonly arenaBytes: number;
  /** The columns have buffers for the batch being filled (false until its first row). */
  private ready = false;

  /**
   * `fixed`: columns with one value for every row (e.g. the capture_id of an ingest), checked here once; rows need
   * not name them, and a value a row gives for one is ignored.
   */
  constructor(
    readonly table: TableDef,
    readonly capacity: number,
    fixed: Row = {},
  ) {
    // The buffers are allocated at the first row of each batch: many writers of an ingest get no row at all.
    this.cols = columnBuffers(table, capacity, false);
    this.arenaBytes = this.cols.reduce((n, c) => n + ColumnBuffer.arenaBytes(c.kind, capacity), 0);
    for (const name of Object.keys(fixed)) {
      const c = this.cols.find((x) => x.name === name);
      if (c === undefined) throw new Error(`${table.name} has no column ${name} (a fixed column)`);
      const v = fixed[name];
      if (v === null || v === undefined) throw new Error(`${table.name}.${name}: a fixed column takes a value, not NULL`);
      new ColumnBuffer(table.name, c.def, 1).set(0, v); // checks the value once, here
    }
    const g = generate(table, this.cols, fixed);
    this.fillRow = g.fillRow;
    this.fillValues = g.fillValues;
    this.fillFixed = g.fillFixed;
    this.required = this.cols.filter((c) => !c.nullable);
  }

  /** Adds a row given by column name (a column left out is NULL); true when the batch is full. */
  add(row: Row): boolean {
    if (!this.ready) this.resetAll();
    const r = this.rows;
    try {
      this.fillRow(row, r);
    } catch (err) {
      this.undo(r);
      throw err;
    }
    return ++this.rows === this.capacity;
  }

  /** Adds a row given as values in the table's column order (all columns; null for NULL); true when full. */
  addValues(values: readonly CellValue[]): boolean {
    if (values.length !== this.cols.length) {
      throw new RangeError(`${this.table.name} row has ${values.length} values, the table ${this.cols.length} columns`);
    }
    if (!this.ready) this.resetAll();
    const r = this.rows;
    try {
      this.fillValues(values, r);
    } catch (err) {
      this.undo(r);
      throw err;
    }
    return ++this.rows === this.capacity;
  }

  /**
   * Adds a row written by `fill` through the columns' setters (no row object: for the hot writers, such as the flows
   * of an ingest); fixed columns are set here, and a NOT NULL column `fill` left unset throws. True when full.
   */
  addWith<T>(fill: DirectFill<T>, arg: T): boolean {
    if (!this.ready) this.resetAll();
    const r = this.rows;
    try {
      this.fillFixed(r);
      fill(this.cols, r, arg);
      const req = this.required;
      for (let i = 0; i < req.length; i++) if (!req[i]!.isSet(r)) throw req[i]!.missing(r);
    } catch (err) {
      this.undo(r);
      throw err;
    }
    return ++this.rows === this.capacity;
  }

  /** The buffered rows as a batch (which owns its buffers), and fresh buffers; null when nothing is buffered. */
  take(): RawBatch | null {
    const n = this.rows;
    if (n === 0) return null;
    const columns = this.cols.map((c) => c.take(n));
    this.rows = 0;
    this.ready = false;
    return { rows: n, columns };
  }

  /** Fresh buffers for every column, in one allocation (at the first row of a batch). */
  private resetAll(): void {
    this.ready = true;
    const arena = new ArrayBuffer(this.arenaBytes);
    let at = 0;
    for (const c of this.cols) {
      c.reset(arena, at);
      at += ColumnBuffer.arenaBytes(c.kind, this.capacity);
    }
  }

  private undo(r: number): void {
    for (const col of this.cols) col.clear(r);
  }
}

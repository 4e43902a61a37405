/**
 * @duckdb/node-api, loaded with `require`. The package is CommonJS: imported from an ES module, Node first scans every
 * file it re-exports for the names it exports (cjs-module-lexer), which costs about as much CPU again as loading it
 * (measured: 0.36-0.48 s of user time for `import` against 0.19-0.20 s for `require`, on this project's 2-core
 * machine). Every command that opens a database pays it at start, so the classes are taken from here.
 */
import { createRequire } from 'node:module';
import type * as api from '@duckdb/node-api';

const duckdb = createRequire(import.meta.url)('@duckdb/node-api') as typeof api;

export const DuckDBInstance = duckdb.DuckDBInstance;
export type DuckDBInstance = api.DuckDBInstance;
export const DuckDBDataChunk = duckdb.DuckDBDataChunk;
export type DuckDBDataChunk = api.DuckDBDataChunk;
export type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';

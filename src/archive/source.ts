/**
 * Reading the messages to export, with their capture and flow, from the database: one parameterised query, streamed
 * chunk by chunk so that memory does not grow with the archive.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { isoTime } from '../util/time.js';
import type { TranscriptRecord } from './record.js';

export interface TranscriptFilters {
  /** Nanoseconds since the epoch, inclusive. */
  since: bigint | null;
  /** Nanoseconds since the epoch, exclusive. */
  until: bigint | null;
  /** Only these apps (messages.app, exactly); empty: every app. */
  apps: string[];
}

const COLUMNS = `epoch_ns(m.ts) AS ts_ns, m.app, m.sender, m.recipient, m.direction, m.kind, m.subject, m.thread, m.body,
  m.body_format, base64(m.body_raw) AS body_raw, c.sensor, m.capture_id::BIGINT AS capture_id, c.path, c.sha256,
  m.flow_id::BIGINT AS flow_id, f.transport, f.client_ip, f.client_port::INTEGER AS client_port, f.server_ip,
  f.server_port::INTEGER AS server_port`;

/** The WHERE clause (fixed fragments) and its parameters. */
function where(f: TranscriptFilters): { sql: string; params: DuckDBValue[] } {
  const parts: string[] = [];
  const params: DuckDBValue[] = [];
  if (f.since !== null) {
    parts.push('epoch_ns(m.ts) >= ?');
    params.push(f.since);
  }
  if (f.until !== null) {
    parts.push('epoch_ns(m.ts) < ?');
    params.push(f.until);
  }
  if (f.apps.length > 0) {
    parts.push(`m.app IN (${f.apps.map(() => '?').join(', ')})`);
    params.push(...f.apps);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** Number of messages the filters select (what the export will write). */
export async function countMessages(conn: DuckDBConnection, f: TranscriptFilters): Promise<number> {
  const w = where(f);
  const r = await conn.runAndReadAll(`SELECT count(*)::BIGINT FROM messages m ${w.sql}`, w.params);
  return Number(r.getRowsJS()[0]![0] as bigint);
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * The selected messages as records, in the export's order: ts, capture_id, flow_id, then the order they were stored
 * (rowid), so that two exports of the same database give the same records in the same order.
 */
export async function* readRecords(conn: DuckDBConnection, f: TranscriptFilters): AsyncGenerator<TranscriptRecord> {
  const w = where(f);
  const sql = `SELECT ${COLUMNS} FROM messages m
    LEFT JOIN captures c ON c.capture_id = m.capture_id
    LEFT JOIN flows f ON f.capture_id = m.capture_id AND f.flow_id = m.flow_id
    ${w.sql}
    ORDER BY m.ts, m.capture_id, m.flow_id, m.rowid`;
  const result = await conn.stream(sql, w.params);
  let seq = 0;
  for await (const rows of result.yieldRowObjectJs()) {
    for (const r of rows) {
      const ns = r.ts_ns as bigint;
      const sec = ns / 1_000_000_000n - (ns % 1_000_000_000n < 0n ? 1n : 0n);
      const nsec = ns - sec * 1_000_000_000n;
      yield {
        seq: ++seq,
        ts: isoTime(Number(sec), Number(nsec), 9),
        app: String(r.app),
        sender: str(r.sender),
        recipient: str(r.recipient),
        direction: str(r.direction),
        kind: str(r.kind),
        subject: str(r.subject),
        thread: str(r.thread),
        body: str(r.body),
        body_format: str(r.body_format),
        body_raw: str(r.body_raw),
        sensor: str(r.sensor),
        capture: { capture_id: Number(r.capture_id), path: str(r.path), sha256: str(r.sha256) },
        flow: {
          flow_id: Number(r.flow_id),
          transport: str(r.transport),
          client_ip: str(r.client_ip),
          client_port: num(r.client_port),
          server_ip: str(r.server_ip),
          server_port: num(r.server_port),
        },
      };
    }
  }
}

/** Day (UTC, YYYY-MM-DD) of a record's ts. */
export const recordDay = (r: TranscriptRecord): string => r.ts.slice(0, 10);


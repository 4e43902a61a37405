/** `apps`: per app, and per app and kind, with how the flows were recognised (methods, mean confidence). */
import { Params, scopeWhere } from '../filters.js';
import type { Section } from '../model.js';
import { cell, col, rawRows, repeated, typedRows, type ReportContext, type ReportDef } from './common.js';

export const APP_COLUMNS = [
  col('app', 'App', 'text'),
  col('kinds', 'Kinds', 'text'),
  col('flows', 'Flows', 'int'),
  col('users', 'Users', 'int'),
  col('bytes', 'Bytes', 'bytes'),
  col('first_seen', 'First seen', 'time'),
  col('last_seen', 'Last seen', 'time'),
];

/** Per app: flows, distinct client addresses, bytes both ways (as on the wire), first and last packet. */
export async function appsSection(ctx: ReportContext): Promise<Section> {
  const q = new Params();
  const w = scopeWhere(q, ctx.scope, { table: 'flows' }, 'f');
  const rows = await typedRows(
    ctx,
    APP_COLUMNS,
    `SELECT f.app, string_agg(DISTINCT f.app_kind, ', ' ORDER BY f.app_kind), count(*), count(DISTINCT f.client_ip),
       sum(f.bytes_c2s + f.bytes_s2c), epoch_ns(min(f.ts_start)), epoch_ns(max(f.ts_end))
     FROM flows f WHERE f.app IS NOT NULL AND ${w} GROUP BY f.app ORDER BY count(*) DESC, f.app`,
    q,
  );
  return {
    id: 'apps',
    title: 'Apps',
    note: 'IM flows per app; users are distinct client addresses; bytes are both directions as on the wire.',
    columns: APP_COLUMNS,
    rows,
    chart: { kind: 'bar', x: 'app', y: ['flows'], title: 'Flows per app' },
  };
}

async function run(ctx: ReportContext): Promise<Section[]> {
  const q = new Params();
  const w = scopeWhere(q, ctx.scope, { table: 'flows' }, 'f');
  const columns = [
    col('app', 'App', 'text'),
    col('kind', 'Kind', 'text'),
    col('flows', 'Flows', 'int'),
    col('users', 'Users', 'int'),
    col('bytes', 'Bytes', 'bytes'),
    col('first_seen', 'First seen', 'time'),
    col('last_seen', 'Last seen', 'time'),
    col('methods', 'Recognised by', 'text'),
    col('confidence', 'Mean confidence', 'float'),
  ];
  const rows = await rawRows(
    ctx,
    `WITH k AS (
       SELECT f.app, f.app_kind, f.method, count(*) AS n FROM flows f WHERE f.app IS NOT NULL AND ${w} GROUP BY ALL
     ), m AS (
       SELECT app, app_kind, string_agg(coalesce(method, 'unknown') || ' ' || n, ', ' ORDER BY n DESC, method) AS methods FROM k GROUP BY ALL
     )
     SELECT f.app, f.app_kind, count(*), count(DISTINCT f.client_ip), sum(f.bytes_c2s + f.bytes_s2c), epoch_ns(min(f.ts_start)),
       epoch_ns(max(f.ts_end)), any_value(m.methods), round(avg(f.confidence), 3)
     FROM flows f JOIN m ON m.app = f.app AND m.app_kind IS NOT DISTINCT FROM f.app_kind
     WHERE f.app IS NOT NULL AND ${w} GROUP BY f.app, f.app_kind ORDER BY f.app, count(*) DESC, f.app_kind`,
    repeated(q, 2),
  );
  return [
    await appsSection(ctx),
    {
      id: 'app_kinds',
      title: 'Apps by kind, and how they were recognised',
      note: 'Kind: chat, call, file, web, presence, control. Recognised by: method and number of flows (payload, sni, quic_sni, certificate, http, dns, stun, ip, port, expected); confidence 0 to 1.',
      columns,
      rows: rows.map((r) => columns.map((c, i) => cell(r[i], c.type))),
    },
  ];
}

export const apps: ReportDef = {
  name: 'apps',
  title: 'IM apps',
  description: 'per app and kind: flows, users, bytes, first/last seen, how recognised (methods, mean confidence)',
  run,
};

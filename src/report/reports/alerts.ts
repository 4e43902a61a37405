/** `alerts`: watchlist hits (table `alerts`), per rule and one by one, newest first. */
import { Params, scopeWhere } from '../filters.js';
import type { Section } from '../model.js';
import { col, listLimit, rawRows, shown, typedRows, type ReportContext, type ReportDef } from './common.js';

export const ALERT_COLUMNS = [
  col('time', 'Time', 'time'),
  col('severity', 'Severity', 'text'),
  col('rule', 'Rule', 'text'),
  col('watchlist', 'Watchlist', 'text'),
  col('app', 'App', 'text'),
  col('sender', 'Sender', 'text'),
  col('recipient', 'Recipient', 'text'),
  col('matched', 'Matched', 'text'),
  col('excerpt', 'Excerpt', 'text'),
  col('source', 'In', 'text'),
  col('capture_id', 'Capture id', 'int'),
  col('flow_id', 'Flow', 'int'),
];

/** Severity order for sorting: critical first. */
export const SEVERITY_ORDER = `CASE a.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END`;

/** The newest `limit` alerts of the scope, and how many there are in all. */
export async function alertRows(ctx: ReportContext, limit: number): Promise<{ rows: Section['rows']; total: number }> {
  const q = new Params();
  const w = scopeWhere(q, ctx.scope, { table: 'alerts', people: ['sender', 'recipient'] }, 'a');
  const [[total]] = (await rawRows(ctx, `SELECT count(*) FROM alerts a WHERE ${w}`, q)) as [[string]];
  const lq = new Params();
  lq.values.push(...q.values);
  const rows = await typedRows(
    ctx,
    ALERT_COLUMNS,
    `SELECT epoch_ns(a.ts), a.severity, a.rule, a.watchlist, a.app, a.sender, a.recipient, a.matched, a.excerpt, a.source_table,
       a.capture_id, a.flow_id
     FROM alerts a WHERE ${w} ORDER BY a.ts DESC, ${SEVERITY_ORDER}, a.rule LIMIT ${lq.p(limit)}`,
    lq,
  );
  return { rows, total: Number(total) };
}

async function run(ctx: ReportContext): Promise<Section[]> {
  const q = new Params();
  const w = scopeWhere(q, ctx.scope, { table: 'alerts', people: ['sender', 'recipient'] }, 'a');
  const ruleColumns = [
    col('rule', 'Rule', 'text'),
    col('severity', 'Severity', 'text'),
    col('watchlist', 'Watchlist', 'text'),
    col('hits', 'Hits', 'int'),
    col('first', 'First', 'time'),
    col('last', 'Last', 'time'),
  ];
  const byRule = await typedRows(
    ctx,
    ruleColumns,
    `SELECT a.rule, a.severity, a.watchlist, count(*), epoch_ns(min(a.ts)), epoch_ns(max(a.ts))
     FROM alerts a WHERE ${w} GROUP BY a.rule, a.severity, a.watchlist ORDER BY ${SEVERITY_ORDER}, count(*) DESC, a.rule`,
    q,
  );
  const { rows, total } = await alertRows(ctx, listLimit(ctx));
  return [
    {
      id: 'alert_rules',
      title: 'Alerts per rule',
      note: 'Watchlist hits per rule, most severe first.',
      columns: ruleColumns,
      rows: byRule,
      chart: { kind: 'bar', x: 'rule', y: ['hits'], title: 'Hits per rule' },
    },
    {
      id: 'alerts',
      title: 'Alerts',
      note: `Newest first; "in" says whether a message body or a file name matched.${shown(rows.length, total)}`,
      columns: ALERT_COLUMNS,
      rows,
    },
  ];
}

export const alerts: ReportDef = {
  name: 'alerts',
  title: 'Watchlist alerts',
  description: 'watchlist hits per rule and one by one (newest first) with provenance',
  run,
};

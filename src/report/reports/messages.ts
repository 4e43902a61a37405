/** `messages`: the messages of the period, optionally those whose text contains `--grep` or matches `--regex`. */
import { FilterError, Params, scopeWhere } from '../filters.js';
import type { Section } from '../model.js';
import { listLimit, rawRows, shown, typedRows, type ReportContext, type ReportDef, col } from './common.js';

const COLUMNS = [
  col('time', 'Time', 'time'),
  col('app', 'App', 'text'),
  col('sender', 'Sender', 'text'),
  col('recipient', 'Recipient', 'text'),
  col('text', 'Text', 'text'),
  col('kind', 'Kind', 'text'),
  col('direction', 'Direction', 'text'),
  col('capture', 'Capture', 'text'),
  col('capture_id', 'Capture id', 'int'),
  col('flow_id', 'Flow', 'int'),
];

/** Throws FilterError (exit 2) with DuckDB's reason when `re` is not a regular expression it accepts (RE2 syntax). */
export async function checkRegex(ctx: ReportContext, re: string): Promise<void> {
  const q = new Params();
  try {
    await rawRows(ctx, `SELECT regexp_matches('', ${q.p(re)})`, q);
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).replace(/^Invalid Input Error: /, '').split('\n')[0];
    throw new FilterError(`--regex ${JSON.stringify(re)} is not a regular expression (RE2 syntax): ${why}`);
  }
}

async function run(ctx: ReportContext): Promise<Section[]> {
  const f = ctx.scope.filters;
  if (f.regex) await checkRegex(ctx, f.regex);
  const limit = listLimit(ctx);
  const q = new Params();
  let w = scopeWhere(q, ctx.scope, { table: 'messages', people: ['sender', 'recipient'] }, 'm');
  // Case-insensitive substring without LIKE, so that % and _ in the text are not wildcards.
  if (f.grep) w += ` AND strpos(lower(coalesce(m.body, '')), lower(${q.p(f.grep)})) > 0`;
  if (f.regex) w += ` AND regexp_matches(coalesce(m.body, ''), ${q.p(f.regex)})`;
  const [[total]] = (await rawRows(ctx, `SELECT count(*) FROM messages m WHERE ${w}`, q)) as [[string]];
  const lq = new Params();
  lq.values.push(...q.values);
  const rows = await typedRows(
    ctx,
    COLUMNS,
    `SELECT epoch_ns(m.ts), m.app, m.sender, m.recipient, m.body, m.kind, m.direction, c.path, m.capture_id, m.flow_id
     FROM messages m LEFT JOIN captures c ON c.capture_id = m.capture_id WHERE ${w}
     ORDER BY m.ts, m.capture_id, m.flow_id, m.rowid LIMIT ${lq.p(limit)}`,
    lq,
  );
  const what = f.grep ? 'containing the text (any case)' : f.regex ? 'matching the regular expression' : 'of the period';
  return [
    {
      id: 'messages',
      title: 'Messages',
      note: `Messages ${what}, in time order.${shown(rows.length, Number(total))}`,
      columns: COLUMNS,
      rows,
    },
  ];
}

export const messages: ReportDef = {
  name: 'messages',
  title: 'Messages',
  description: 'messages in time order; --grep TEXT (case-insensitive substring) or --regex RE (RE2) selects by text',
  run,
};

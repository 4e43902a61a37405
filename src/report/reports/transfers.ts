/** `transfers`: files sent over IM, complete or not, with their hashes and where they were carved to. */
import { Params, scopeWhere } from '../filters.js';
import type { Section } from '../model.js';
import { col, listLimit, rawRows, shown, typedRows, type ReportContext, type ReportDef } from './common.js';

const COLUMNS = [
  col('time', 'Time', 'time'),
  col('app', 'App', 'text'),
  col('sender', 'Sender', 'text'),
  col('recipient', 'Recipient', 'text'),
  col('filename', 'File name', 'text'),
  col('size', 'Size', 'bytes'),
  col('bytes_seen', 'Bytes seen', 'bytes'),
  col('complete', 'Complete', 'bool'),
  col('method', 'Method', 'text'),
  col('sha256', 'SHA-256', 'text'),
  col('path', 'Carved to', 'text'),
  col('capture', 'Capture', 'text'),
  col('capture_id', 'Capture id', 'int'),
  col('flow_id', 'Flow', 'int'),
];

async function run(ctx: ReportContext): Promise<Section[]> {
  const q = new Params();
  const w = scopeWhere(q, ctx.scope, { table: 'transfers', people: ['sender', 'recipient'] }, 't');
  const [[total]] = (await rawRows(ctx, `SELECT count(*) FROM transfers t WHERE ${w}`, q)) as [[string]];
  const lq = new Params();
  lq.values.push(...q.values);
  const rows = await typedRows(
    ctx,
    COLUMNS,
    `SELECT epoch_ns(t.ts), t.app, t.sender, t.recipient, t.filename, t.size, t.bytes_seen, t.complete, t.method, t.sha256, t.path,
       c.path, t.capture_id, t.flow_id
     FROM transfers t LEFT JOIN captures c ON c.capture_id = t.capture_id WHERE ${w}
     ORDER BY t.ts, t.capture_id, t.flow_id LIMIT ${lq.p(listLimit(ctx))}`,
    lq,
  );
  return [
    {
      id: 'transfers',
      title: 'File transfers',
      note: `In time order. Size as announced; bytes seen in the capture; the SHA-256 only when every byte was seen.${shown(rows.length, Number(total))}`,
      columns: COLUMNS,
      rows,
    },
  ];
}

export const transfers: ReportDef = {
  name: 'transfers',
  title: 'File transfers',
  description: 'files sent over IM: sender, recipient, name, size, bytes seen, complete, method, hash, where carved',
  run,
};

/** `timeline`: activity by day and by hour (UTC): IM flows started, messages, distinct users (client addresses). */
import { Params, scopeWhere } from '../filters.js';
import type { Cell, Section } from '../model.js';
import { col, rawRows, type ReportContext, type ReportDef } from './common.js';
import { nsToIso } from '../filters.js';

async function buckets(ctx: ReportContext, unit: 'day' | 'hour'): Promise<Cell[][]> {
  const fq = new Params();
  const fw = scopeWhere(fq, ctx.scope, { table: 'flows' }, 'f');
  // The unit is one of two constants, never user text.
  const flows = await rawRows(
    ctx,
    `SELECT epoch_ns(date_trunc('${unit}', f.ts_start)), count(*), count(DISTINCT f.client_ip)
     FROM flows f WHERE f.app IS NOT NULL AND ${fw} GROUP BY 1`,
    fq,
  );
  const mq = new Params();
  const mw = scopeWhere(mq, ctx.scope, { table: 'messages', people: ['sender', 'recipient'] }, 'm');
  const msgs = await rawRows(ctx, `SELECT epoch_ns(date_trunc('${unit}', m.ts)), count(*) FROM messages m WHERE ${mw} GROUP BY 1`, mq);
  const by = new Map<string, [number, number, number]>();
  for (const [t, n, users] of flows) by.set(String(t), [Number(n), 0, Number(users)]);
  for (const [t, n] of msgs) {
    const b = by.get(String(t)) ?? [0, 0, 0];
    b[1] = Number(n);
    by.set(String(t), b);
  }
  return [...by.entries()]
    .map(([t, v]) => [BigInt(t), v] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([t, [f, m, u]]) => [nsToIso(t), f, m, u]);
}

async function run(ctx: ReportContext): Promise<Section[]> {
  const columns = (unit: string) => [col(unit, unit === 'day' ? 'Day' : 'Hour', 'time'), col('flows', 'IM flows', 'int'), col('messages', 'Messages', 'int'), col('users', 'Users', 'int')];
  return [
    {
      id: 'by_day',
      title: 'Activity by day (UTC)',
      note: 'IM flows started, messages, and distinct client addresses with IM flows started, per day; days without activity are left out.',
      columns: columns('day'),
      rows: await buckets(ctx, 'day'),
      chart: { kind: 'line', x: 'day', y: ['flows', 'messages', 'users'], title: 'Activity by day' },
    },
    {
      id: 'by_hour',
      title: 'Activity by hour (UTC)',
      note: 'The same per hour; hours without activity are left out.',
      columns: columns('hour'),
      rows: await buckets(ctx, 'hour'),
      chart: { kind: 'line', x: 'hour', y: ['flows', 'messages', 'users'], title: 'Activity by hour' },
    },
  ];
}

export const timeline: ReportDef = {
  name: 'timeline',
  title: 'Activity timeline',
  description: 'activity by day and by hour (UTC): IM flows, messages, users',
  run,
};

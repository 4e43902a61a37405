/** `timeline`: activity by day and by hour (UTC): IM flows started, messages, IM users (counted as `summary` counts them). */
import { Params, scopeWhere } from '../filters.js';
import type { Cell, Section } from '../model.js';
import { col, rawRows, type ReportContext, type ReportDef } from './common.js';
import { nsToIso } from '../filters.js';

async function buckets(ctx: ReportContext, unit: 'day' | 'hour'): Promise<Cell[][]> {
  const fq = new Params();
  const fw = scopeWhere(fq, ctx.scope, { table: 'flows' }, 'f');
  // The unit is one of two constants, never user text.
  // Users as `summary` and `users` count them (imUsers): the directory person of the flow's client account, else of
  // its address, else the address.
  const flows = await rawRows(
    ctx,
    `SELECT epoch_ns(date_trunc('${unit}', f.ts_start)), f.client_ip, f.app,
       (SELECT min(a.account) FROM accounts a
         WHERE a.capture_id = f.capture_id AND a.flow_id = f.flow_id AND a.side IS DISTINCT FROM 'server'), count(*)
     FROM flows f WHERE f.app IS NOT NULL AND ${fw} GROUP BY ALL`,
    fq,
  );
  const mq = new Params();
  const mw = scopeWhere(mq, ctx.scope, { table: 'messages', people: ['sender', 'recipient'] }, 'm');
  const msgs = await rawRows(ctx, `SELECT epoch_ns(date_trunc('${unit}', m.ts)), count(*) FROM messages m WHERE ${mw} GROUP BY 1`, mq);
  const by = new Map<string, [number, number, number]>();
  const who = new Map<string, Set<string>>();
  for (const [t, ip, app, account, n] of flows) {
    const b = by.get(String(t)) ?? [0, 0, 0];
    b[0] += Number(n);
    by.set(String(t), b);
    const p = ctx.scope.directory.personOf(app as string, account as string | null, ip as string);
    const set = who.get(String(t)) ?? new Set<string>();
    set.add(p ? `p\u0000${p.person}` : `a\u0000${String(ip)}`);
    who.set(String(t), set);
  }
  for (const [t, set] of who) by.get(t)![2] = set.size;
  for (const [t, n] of msgs) {
    const b = by.get(String(t)) ?? [0, 0, 0];
    b[1] = Number(n);
    by.set(String(t), b);
  }
  return [...by.entries()]
    .map(([t, v]) => [BigInt(t), v] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([t, [f, m, u]]) => [unit === 'day' ? nsToIso(t).slice(0, 10) : nsToIso(t), f, m, u]);
}

async function run(ctx: ReportContext): Promise<Section[]> {
  const columns = (unit: string) => [unit === 'day' ? col('day', 'Day', 'text') : col('hour', 'Hour', 'time'), col('flows', 'IM flows', 'int'), col('messages', 'Messages', 'int'), col('users', 'Users', 'int')];
  return [
    {
      id: 'by_day',
      title: 'Activity by day (UTC)',
      note: 'IM flows started, messages, and IM users with IM flows started (directory people, else client addresses, as in summary), per day (YYYY-MM-DD, UTC); days without activity are left out.',
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

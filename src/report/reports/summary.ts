/**
 * `summary`: the one-page overview of the period: counts, apps, top talkers, recent alerts, accounts and apps new
 * since the previous period of the same length, and the share of encrypted flows no app was recognised on.
 */
import { Params, scopeWhere, nsToIso } from '../filters.js';
import type { Cell, Section } from '../model.js';
import { alertRows, ALERT_COLUMNS } from './alerts.js';
import { appsSection } from './apps.js';
import { col, imUsers, list, rawRows, typedRows, type ReportContext, type ReportDef } from './common.js';

export const TOP_TALKERS = 10;
export const RECENT_ALERTS = 10;

async function count(ctx: ReportContext, table: 'accounts' | 'messages' | 'transfers' | 'alerts', what: string, people = true): Promise<number> {
  const q = new Params();
  const w = scopeWhere(q, ctx.scope, { table, people: people ? ['sender', 'recipient'] : [] }, 'x');
  const [[n]] = (await rawRows(ctx, `SELECT ${what} FROM ${table} x WHERE ${w}`, q)) as [[string]];
  return Number(n);
}

async function run(ctx: ReportContext): Promise<Section[]> {
  const users = await imUsers(ctx);
  const fq = new Params();
  const fw = scopeWhere(fq, ctx.scope, { table: 'flows' }, 'f');
  const [[flows, imFlows, apps]] = (await rawRows(
    ctx,
    `SELECT count(*), count(*) FILTER (WHERE f.app IS NOT NULL), count(DISTINCT f.app) FROM flows f WHERE ${fw}`,
    fq,
  )) as [[string, string, string]];
  const counts: [string, string, number][] = [
    ['im_users', 'IM users (people, or client addresses no directory entry names)', users.length],
    ['accounts', 'Accounts (distinct app and account)', await count(ctx, 'accounts', 'count(DISTINCT (x.app, x.account))', false)],
    ['apps', 'Apps', Number(apps)],
    ['flows', 'Flows (all)', Number(flows)],
    ['im_flows', 'IM flows', Number(imFlows)],
    ['messages', 'Messages', await count(ctx, 'messages', 'count(*)')],
    ['transfers', 'File transfers', await count(ctx, 'transfers', 'count(*)')],
    ['alerts', 'Alerts', await count(ctx, 'alerts', 'count(*)')],
  ];

  const top = users.slice(0, TOP_TALKERS);
  const recent = await alertRows(ctx, RECENT_ALERTS);
  const sections: Section[] = [
    {
      id: 'counts',
      title: 'Counts',
      columns: [col('metric', 'Metric', 'text'), col('title', 'What', 'text'), col('value', 'Value', 'int')],
      rows: counts,
    },
    await appsSection(ctx),
    {
      id: 'top_users',
      title: 'Top talkers',
      note: `The ${TOP_TALKERS} IM users with the most messages, then bytes (people from the directory, else client addresses).`,
      columns: [
        col('user', 'User', 'text'),
        col('kind', 'Kind', 'text'),
        col('apps', 'Apps', 'text'),
        col('sessions', 'Sessions', 'int'),
        col('messages', 'Messages', 'int'),
        col('bytes', 'Bytes', 'bytes'),
      ],
      rows: top.map((u): Cell[] => [u.user, u.kind, list(u.apps), u.sessions, u.messages, u.bytes]),
      chart: { kind: 'bar', x: 'user', y: ['messages'], title: 'Messages per user' },
    },
    {
      id: 'recent_alerts',
      title: 'Recent alerts',
      note: recent.total > RECENT_ALERTS ? `The ${RECENT_ALERTS} newest watchlist hits of ${recent.total}.` : `Every watchlist hit (${recent.total}), newest first.`,
      columns: ALERT_COLUMNS,
      rows: recent.rows,
    },
    ...(await newSince(ctx)),
    await encryption(ctx),
  ];
  return sections;
}

/** Accounts and apps of the period not seen in the period of the same length before it (needs --since). */
async function newSince(ctx: ReportContext): Promise<Section[]> {
  const f = ctx.scope.filters;
  const accountColumns = [col('app', 'App', 'text'), col('account', 'Account', 'text'), col('addresses', 'Addresses', 'text'), col('first_seen', 'First seen', 'time')];
  const appColumns = [col('app', 'App', 'text'), col('kinds', 'Kinds', 'text'), col('flows', 'Flows', 'int'), col('first_seen', 'First seen', 'time')];
  if (f.since === null) {
    const note = 'Give --since to compare the period with the one of the same length before it.';
    return [
      { id: 'new_accounts', title: 'New accounts', note, columns: accountColumns, rows: [] },
      { id: 'new_apps', title: 'New apps', note, columns: appColumns, rows: [] },
    ];
  }
  const until = f.until ?? ctx.scope.now;
  const prevSince = f.since - (until - f.since);
  const period = `Compared with ${nsToIso(prevSince, true)} to ${nsToIso(f.since, true)}.`;

  const aq = new Params();
  const cur = scopeWhere(aq, ctx.scope, { table: 'accounts' }, 'a', { until });
  const prev = scopeWhere(aq, ctx.scope, { table: 'accounts' }, 'p', { since: prevSince, until: f.since });
  const accounts = await typedRows(
    ctx,
    accountColumns,
    `SELECT a.app, a.account, string_agg(DISTINCT a.client_ip, ', ' ORDER BY a.client_ip), epoch_ns(min(a.first_seen))
     FROM accounts a WHERE ${cur} AND a.side IS DISTINCT FROM 'server'
       AND NOT EXISTS (SELECT 1 FROM accounts p WHERE p.app = a.app AND p.account = a.account AND ${prev})
     GROUP BY a.app, a.account ORDER BY min(a.first_seen), a.app, a.account`,
    aq,
  );
  const pq = new Params();
  const fcur = scopeWhere(pq, ctx.scope, { table: 'flows' }, 'f', { until });
  const fprev = scopeWhere(pq, ctx.scope, { table: 'flows' }, 'p', { since: prevSince, until: f.since });
  const apps = await typedRows(
    ctx,
    appColumns,
    `SELECT f.app, string_agg(DISTINCT f.app_kind, ', ' ORDER BY f.app_kind), count(*), epoch_ns(min(f.ts_start))
     FROM flows f WHERE f.app IS NOT NULL AND ${fcur}
       AND NOT EXISTS (SELECT 1 FROM flows p WHERE p.app = f.app AND ${fprev})
     GROUP BY f.app ORDER BY min(f.ts_start), f.app`,
    pq,
  );
  return [
    { id: 'new_accounts', title: 'New accounts', note: `Client accounts seen in the period and not in the one before. ${period}`, columns: accountColumns, rows: accounts },
    { id: 'new_apps', title: 'New apps', note: `Apps with flows in the period and none in the one before. ${period}`, columns: appColumns, rows: apps },
  ];
}

/** Encrypted flows and the share of them no app was recognised on (the blind spot), regardless of --app. */
async function encryption(ctx: ReportContext): Promise<Section> {
  const q = new Params();
  const w = scopeWhere(q, ctx.scope, { table: 'flows' }, 'f', { ignoreApps: true });
  const [[enc, unknown]] = (await rawRows(
    ctx,
    `SELECT count(*) FILTER (WHERE f.encrypted), count(*) FILTER (WHERE f.encrypted AND f.app IS NULL) FROM flows f WHERE ${w}`,
    q,
  )) as [[string, string]];
  const e = Number(enc), u = Number(unknown);
  return {
    id: 'encryption',
    title: 'Encrypted and unidentified',
    note: 'Flows whose content is encrypted, and those of them no app was recognised on (share in percent). --app does not apply here.',
    columns: [col('encrypted_flows', 'Encrypted flows', 'int'), col('unidentified', 'Of them unidentified', 'int'), col('share', 'Share unidentified', 'percent')],
    rows: [[e, u, e === 0 ? null : Math.round((u / e) * 10000) / 100]],
  };
}

export const summary: ReportDef = {
  name: 'summary',
  title: 'Summary',
  description: 'one-page overview: counts, apps, top talkers, recent alerts, new accounts and apps, encrypted-unidentified share',
  run,
};

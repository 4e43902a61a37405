/** `users`: per person (directory) or, for clients no entry names, per client address; and the unclaimed accounts. */
import { Params, scopeWhere } from '../filters.js';
import type { Cell, Section } from '../model.js';
import { col, imUsers, list, rawRows, type ReportContext, type ReportDef } from './common.js';
import { nsToIso } from '../filters.js';

export const USER_COLUMNS = [
  col('user', 'User', 'text'),
  col('department', 'Department', 'text'),
  col('kind', 'Kind', 'text'),
  col('addresses', 'Addresses', 'text'),
  col('apps', 'Apps', 'text'),
  col('accounts', 'Accounts', 'text'),
  col('first_seen', 'First seen', 'time'),
  col('last_seen', 'Last seen', 'time'),
  col('sessions', 'Sessions', 'int'),
  col('messages', 'Messages', 'int'),
  col('transfers', 'Transfers', 'int'),
  col('bytes', 'Bytes', 'bytes'),
];

async function run(ctx: ReportContext): Promise<Section[]> {
  const users = await imUsers(ctx);
  const sections: Section[] = [
    {
      id: 'users',
      title: 'IM users',
      note: ctx.scope.directory.empty
        ? 'One row per client address of IM flows (no directory: imtap directory import names people). Sessions are IM flows; messages and transfers those carried on them.'
        : 'One row per directory person, and per client address no directory entry names. Sessions are IM flows; messages and transfers those carried on them.',
      columns: USER_COLUMNS,
      rows: users.map((u): Cell[] => [
        u.user,
        u.department,
        u.kind,
        list(u.addresses),
        list(u.apps),
        list(u.accounts),
        nsToIso(u.first),
        nsToIso(u.last),
        u.sessions,
        u.messages,
        u.transfers,
        u.bytes,
      ]),
      chart: { kind: 'bar', x: 'user', y: ['messages'], title: 'Messages per user' },
    },
  ];
  if (!ctx.scope.directory.empty) sections.push(await unclaimed(ctx));
  return sections;
}

/** Client accounts no directory account entry names (the person their address belongs to, if any, is shown). */
async function unclaimed(ctx: ReportContext): Promise<Section> {
  const q = new Params();
  const w = scopeWhere(q, ctx.scope, { table: 'accounts' }, 'a');
  const rows = await rawRows(
    ctx,
    `SELECT a.app, a.account, string_agg(DISTINCT a.client_ip, ', ' ORDER BY a.client_ip), epoch_ns(min(a.first_seen)),
       epoch_ns(max(a.last_seen)), count(DISTINCT (a.capture_id, a.flow_id)), list(DISTINCT a.client_ip)
     FROM accounts a WHERE a.side IS DISTINCT FROM 'server' AND ${w} GROUP BY ALL ORDER BY a.app, a.account`,
    q,
  );
  const dir = ctx.scope.directory;
  const out: Cell[][] = [];
  for (const [app, account, addrs, first, last, flows, ips] of rows) {
    if (dir.account(app as string, account as string)) continue;
    const byAddress = ((ips as unknown as (string | null)[] | null) ?? []).map((ip) => dir.address(ip)?.person).find((p) => p !== undefined) ?? null;
    out.push([app as string, account as string, (addrs as string | null) ?? null, nsToIso(BigInt(first as string)), nsToIso(BigInt(last as string)), Number(flows), byAddress]);
  }
  return {
    id: 'unclaimed_accounts',
    title: 'Accounts no one has claimed',
    note: 'Client accounts that no directory account entry names; "by address" is the person whose address the account was used from, if any.',
    columns: [
      col('app', 'App', 'text'),
      col('account', 'Account', 'text'),
      col('addresses', 'Addresses', 'text'),
      col('first_seen', 'First seen', 'time'),
      col('last_seen', 'Last seen', 'time'),
      col('sessions', 'Sessions', 'int'),
      col('by_address', 'By address', 'text'),
    ],
    rows: out,
  };
}

export const users: ReportDef = {
  name: 'users',
  title: 'IM users',
  description: 'per person (directory) or client address: apps, accounts, first/last seen, sessions, messages, transfers, bytes',
  run,
};

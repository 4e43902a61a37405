/** `accounts`: every IM account seen, with where it was used from, who it belongs to, and what it sent. */
import { Params, scopeWhere } from '../filters.js';
import type { Cell, Section } from '../model.js';
import { cell, col, rawRows, repeated, type ReportContext, type ReportDef } from './common.js';

const COLUMNS = [
  col('app', 'App', 'text'),
  col('account', 'Account', 'text'),
  col('display_name', 'Display name', 'text'),
  col('person', 'Person', 'text'),
  col('side', 'Side', 'text'),
  col('addresses', 'Addresses', 'text'),
  col('servers', 'Servers', 'text'),
  col('first_seen', 'First seen', 'time'),
  col('last_seen', 'Last seen', 'time'),
  col('sessions', 'Sessions', 'int'),
  col('messages_sent', 'Messages sent', 'int'),
  col('messages_received', 'Messages received', 'int'),
];

/** XMPP messages name full addresses (`anna@office.example/desktop`), accounts bare ones. */
const BARE = (x: string) => `CASE WHEN m.app = 'xmpp' THEN split_part(${x}, '/', 1) ELSE ${x} END`;

async function run(ctx: ReportContext): Promise<Section[]> {
  const q = new Params();
  const w = scopeWhere(q, ctx.scope, { table: 'accounts' }, 'a');
  const accounts = await rawRows(
    ctx,
    `SELECT a.app, a.account, max(a.display_name), string_agg(DISTINCT a.side, ', ' ORDER BY a.side),
       string_agg(DISTINCT a.client_ip, ', ' ORDER BY a.client_ip), string_agg(DISTINCT a.server, ', ' ORDER BY a.server),
       epoch_ns(min(a.first_seen)), epoch_ns(max(a.last_seen)), count(DISTINCT (a.capture_id, a.flow_id)), max(a.client_ip)
     FROM accounts a WHERE ${w} GROUP BY a.app, a.account ORDER BY a.app, a.account`,
    q,
  );
  // Messages per account (as sender, as recipient) in the same scope; matched to accounts by app and name (XMPP
  // accounts are bare addresses, messages carry full ones: the resource is dropped).
  const mq = new Params();
  const mw = scopeWhere(mq, ctx.scope, { table: 'messages', people: ['sender', 'recipient'] }, 'm');
  const counts = new Map<string, [number, number]>();
  for (const [app, who, sent, received] of await rawRows(
    ctx,
    `SELECT app, who, sum(sent), sum(received) FROM (
       SELECT m.app, ${BARE('m.sender')} AS who, 1 AS sent, 0 AS received FROM messages m WHERE m.sender IS NOT NULL AND ${mw}
       UNION ALL
       SELECT m.app, ${BARE('m.recipient')}, 0, 1 FROM messages m WHERE m.recipient IS NOT NULL AND ${mw}
     ) GROUP BY ALL`,
    repeated(mq, 2),
  )) {
    counts.set(`${app}\u0000${who}`, [Number(sent), Number(received)]);
  }
  const dir = ctx.scope.directory;
  const rows = accounts.map((r): Cell[] => {
    const [app, account, display, side, addrs, servers, first, last, flows, anyIp] = r;
    const person = dir.personOf(app as string, account as string, side === 'server' ? null : (anyIp as string | null));
    const [sent, received] = counts.get(`${app}\u0000${account}`) ?? [0, 0];
    return [
      cell(app, 'text'),
      cell(account, 'text'),
      cell(display, 'text'),
      person?.person ?? null,
      cell(side, 'text'),
      cell(addrs, 'text'),
      cell(servers, 'text'),
      cell(first, 'time'),
      cell(last, 'time'),
      cell(flows, 'int'),
      sent,
      received,
    ];
  });
  return [
    {
      id: 'accounts',
      title: 'Accounts',
      note: 'Side: client (used from the flow\'s client) or server (the far side: a peer, another participant). Person: the directory entry of the account, else of its address. Messages: rows of messages with the account as sender or recipient.',
      columns: COLUMNS,
      rows,
    },
  ];
}

export const accounts: ReportDef = {
  name: 'accounts',
  title: 'IM accounts',
  description: 'every account: app, display name, person, addresses, servers, first/last seen, sessions, messages sent and received',
  run,
};

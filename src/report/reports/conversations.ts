/**
 * `conversations`: transcripts, one section per conversation (a pair of accounts, a channel or a room), messages in
 * time order with their provenance. Bounded: the newest `--limit` conversations (by last message), at most
 * TRANSCRIPT_MAX messages each.
 */
import { Params, scopeWhere } from '../filters.js';
import type { Section } from '../model.js';
import { col, rawRows, shown, typedRows, type ReportContext, type ReportDef } from './common.js';

export const DEFAULT_CONVERSATIONS = 20;
/** Messages shown per conversation (the newest conversations can still be long). */
export const TRANSCRIPT_MAX = 1000;

/**
 * The conversation a message belongs to: its recipient when that is a channel or room (an IRC channel, an XMPP
 * groupchat, a Yahoo conference or chat room), else the pair of sender and recipient, in either direction.
 * The patterns are constants: nothing from the user goes into this text.
 */
const ROOM = `(m.kind IN ('groupchat', 'conference', 'chatroom', 'chatroom_emote') OR (m.app = 'irc' AND regexp_matches(coalesce(m.recipient, ''), '^[#&!+]')))`;
/** An XMPP address without its resource (`anna@office.example/desktop` → `anna@office.example`): one person's devices are one party. */
const bare = (x: string) => `CASE WHEN m.app = 'xmpp' THEN split_part(coalesce(${x}, '?'), '/', 1) ELSE coalesce(${x}, '?') END`;
/**
 * A room's messages as sent name the room as recipient; XMPP group chat as delivered comes from `room@service/nick`
 * to the reader's full address, so its room is the sender's bare address.
 */
const ROOM_NAME = `CASE WHEN m.app = 'xmpp' AND m.kind = 'groupchat' AND m.direction = 's2c' THEN ${bare('m.sender')} ELSE ${bare('m.recipient')} END`;
const CONVERSATION = `CASE WHEN ${ROOM} THEN ${ROOM_NAME}
  ELSE least(${bare('m.sender')}, ${bare('m.recipient')}) || ' ↔ ' || greatest(${bare('m.sender')}, ${bare('m.recipient')}) END`;

export const TRANSCRIPT_COLUMNS = [
  col('time', 'Time', 'time'),
  col('sender', 'Sender', 'text'),
  col('recipient', 'Recipient', 'text'),
  col('text', 'Text', 'text'),
  col('kind', 'Kind', 'text'),
  col('direction', 'Direction', 'text'),
  col('capture', 'Capture', 'text'),
  col('capture_id', 'Capture id', 'int'),
  col('flow_id', 'Flow', 'int'),
];

async function run(ctx: ReportContext): Promise<Section[]> {
  const limit = ctx.limit ?? DEFAULT_CONVERSATIONS;
  const q = new Params();
  const w = scopeWhere(q, ctx.scope, { table: 'messages', people: ['sender', 'recipient'] }, 'm');
  const indexColumns = [
    col('app', 'App', 'text'),
    col('conversation', 'Conversation', 'text'),
    col('kind', 'Kind', 'text'),
    col('messages', 'Messages', 'int'),
    col('senders', 'Senders', 'int'),
    col('first', 'First', 'time'),
    col('last', 'Last', 'time'),
  ];
  const sql = `SELECT m.app, ${CONVERSATION} AS conv, CASE WHEN ${ROOM} THEN 'room' ELSE 'pair' END, count(*), count(DISTINCT m.sender),
      epoch_ns(min(m.ts)), epoch_ns(max(m.ts))
    FROM messages m WHERE ${w} GROUP BY ALL ORDER BY max(m.ts) DESC, m.app, conv`;
  const all = await typedRows(ctx, indexColumns, sql, q);
  const index = all.slice(0, limit);
  const sections: Section[] = [
    {
      id: 'conversations',
      title: 'Conversations',
      note: `Newest first. A room is a channel or chat room (its messages go to it); a pair is two accounts writing to each other.${shown(index.length, all.length)}`,
      columns: indexColumns,
      rows: index,
    },
  ];
  let n = 0;
  for (const [app, conv, , count] of index) {
    n++;
    const tq = new Params();
    const tw = scopeWhere(tq, ctx.scope, { table: 'messages', people: ['sender', 'recipient'] }, 'm');
    const rows = await typedRows(
      ctx,
      TRANSCRIPT_COLUMNS,
      `SELECT epoch_ns(m.ts), m.sender, m.recipient, m.body, m.kind, m.direction, c.path, m.capture_id, m.flow_id
       FROM messages m LEFT JOIN captures c ON c.capture_id = m.capture_id
       WHERE ${tw} AND m.app = ${tq.p(app as string)} AND (${CONVERSATION}) = ${tq.p(conv as string)}
       ORDER BY m.ts, m.capture_id, m.flow_id, m.rowid LIMIT ${tq.p(TRANSCRIPT_MAX)}`,
      tq,
    );
    sections.push({
      id: `conversation_${n}`,
      title: `${app}: ${conv}`,
      note: `In time order; capture and flow say where each message was seen.${shown(rows.length, Number(count))}`,
      columns: TRANSCRIPT_COLUMNS,
      rows,
    });
  }
  return sections;
}

export const conversations: ReportDef = {
  name: 'conversations',
  title: 'Conversations',
  description: 'transcripts per pair, channel or room in time order, with provenance (the newest --limit conversations, default 20)',
  run,
};

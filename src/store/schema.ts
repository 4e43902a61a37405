/**
 * The storage schema as data: every table and column imtap writes, declared once with its DuckDB type, nullability
 * and a one-line meaning. The DDL (`createStatements`), the writer's column layout (`writer.ts`), `docs/schema.md`
 * (`npm run docs:schema`) and the test that refuses an undeclared column all come from `TABLES`, so the schema is a
 * contract that cannot drift from its documentation (Zeek documents each log field in its record type; Suricata
 * validates every EVE record against a schema).
 *
 * Conventions: every table except `captures`, `schema_version` and `directory` (policy, not evidence) starts with a timestamp (`ts`, or `ts_start` for
 * flows), then `capture_id` and `flow_id`, so any row leads back to its capture and its packets. A flow is identified
 * by (`capture_id`, `flow_id`): flow ids are numbered per capture. Timestamps are TIMESTAMP_NS, UTC, at the
 * capture's full precision. No primary keys or indexes: DuckDB maintains them on every append, which costs ingest
 * speed, and uniqueness (one `captures` row per SHA-256) is kept by the code that ingests.
 *
 * Changing a table means: bump SCHEMA_VERSION, add a migration in `migrations.ts`, run `npm run docs:schema`.
 */

/** The DuckDB types the schema uses (each needs a column layout in writer.ts). */
export type DuckType =
  | 'BIGINT'
  | 'INTEGER'
  | 'USMALLINT'
  | 'UTINYINT'
  | 'DOUBLE'
  | 'VARCHAR'
  | 'BOOLEAN'
  | 'TIMESTAMP_NS'
  | 'BLOB';

export interface ColumnDef {
  name: string;
  type: DuckType;
  nullable: boolean;
  /** One line: what the value means, its unit, where it comes from. */
  doc: string;
  /** A closed set of values, enforced by a CHECK constraint and by the writer. */
  values?: readonly string[];
}

export interface TableDef {
  name: string;
  doc: string;
  columns: ColumnDef[];
}

/** The version of the schema this code writes; stored in `schema_version`. */
export const SCHEMA_VERSION = 5;

const col = (name: string, type: DuckType, nullable: boolean, doc: string, values?: readonly string[]): ColumnDef =>
  values === undefined ? { name, type, nullable, doc } : { name, type, nullable, doc, values };

/** The leading columns of every per-flow table. */
const rowOrigin = (ts: string, flowNullable = false): ColumnDef[] => [
  col('ts', 'TIMESTAMP_NS', false, ts),
  col('capture_id', 'BIGINT', false, 'The capture the row comes from (`captures.capture_id`).'),
  col('flow_id', 'BIGINT', flowNullable, 'The flow the row comes from (`flows.flow_id` within the same capture).'),
];

export const CAPTURE_STATUS = ['complete', 'partial', 'failed'] as const;

export const TABLES: TableDef[] = [
  {
    name: 'schema_version',
    doc: 'The schema versions this file has been at, one row per version reached; the current one is the highest.',
    columns: [
      col('version', 'INTEGER', false, 'Schema version (SCHEMA_VERSION in src/store/schema.ts).'),
      col('applied_at', 'TIMESTAMP_NS', false, 'When the file reached this version (wall clock, UTC).'),
    ],
  },
  {
    name: 'captures',
    doc: 'One row per capture file ingested; the SHA-256 keeps a file from being ingested twice, the status shows an interrupted ingest.',
    columns: [
      col('capture_id', 'BIGINT', false, 'Identifier of the capture, referenced by every other table.'),
      col('path', 'VARCHAR', false, 'The path as given on the command line (`-` for standard input).'),
      col('sha256', 'VARCHAR', true, 'SHA-256 of the file as read (before gunzip), lower-case hex; null until read to the end.'),
      col('format', 'VARCHAR', false, 'Capture format as recognised from the magic bytes: pcap, pcap-ns, pcapng (with `+gzip` when compressed).'),
      col('file_bytes', 'BIGINT', true, 'Size of the file in bytes as read (compressed size for gzip).'),
      col('packets', 'BIGINT', false, 'Packets read.'),
      col('bytes', 'BIGINT', false, 'Bytes of packet data captured (sum of captured lengths).'),
      col('ts_first', 'TIMESTAMP_NS', true, 'Timestamp of the first packet; null when there is none.'),
      col('ts_last', 'TIMESTAMP_NS', true, 'Timestamp of the last packet; null when there is none.'),
      col('status', 'VARCHAR', false, 'complete: ingested to the end; partial: interrupted or damaged (rows so far are kept); failed: nothing usable.', CAPTURE_STATUS),
      col('error', 'VARCHAR', true, 'Why the status is not complete, with the byte offset of the damage; null when complete.'),
      col('ingested_at', 'TIMESTAMP_NS', false, 'When the ingest started (wall clock, UTC).'),
      col('sensor', 'VARCHAR', true, 'Name of the sensor or tap the capture comes from, when given.'),
    ],
  },
  {
    name: 'flows',
    doc: 'One row per TCP or UDP flow when it ends: endpoints, volume each way, and which application it was recognised as.',
    columns: [
      ...rowOrigin('Timestamp of the first packet of the flow.').map((c) => (c.name === 'ts' ? { ...c, name: 'ts_start' } : c)),
      col('ts_end', 'TIMESTAMP_NS', false, 'Timestamp of the last packet of the flow.'),
      col('transport', 'VARCHAR', false, 'tcp or udp.', ['tcp', 'udp']),
      col('client_ip', 'VARCHAR', false, 'Client address as text (IPv4 dotted, IPv6 RFC 5952).'),
      col('client_port', 'USMALLINT', false, 'Client port.'),
      col('server_ip', 'VARCHAR', false, 'Server address as text.'),
      col('server_port', 'USMALLINT', false, 'Server port.'),
      col('orientation', 'VARCHAR', true, 'How the client was told from the server: syn, synack, port, first_packet, expected.'),
      col('packets_c2s', 'BIGINT', false, 'Packets client to server.'),
      col('packets_s2c', 'BIGINT', false, 'Packets server to client.'),
      col('bytes_c2s', 'BIGINT', false, 'Bytes on the wire client to server (IP length).'),
      col('bytes_s2c', 'BIGINT', false, 'Bytes on the wire server to client (IP length).'),
      col('payload_bytes_c2s', 'BIGINT', true, 'Transport payload bytes client to server.'),
      col('payload_bytes_s2c', 'BIGINT', true, 'Transport payload bytes server to client.'),
      col('end_reason', 'VARCHAR', true, 'Why the flow ended: fin, rst, idle timeout, end of capture, evicted at the flow limit.'),
      col('gaps', 'INTEGER', true, 'TCP: holes left in the reassembled streams (both directions).'),
      col('gap_bytes', 'BIGINT', true, 'TCP: bytes missing in those holes.'),
      col('retransmissions', 'BIGINT', true, 'TCP: segments seen again (same or overlapping sequence range).'),
      col('vlan', 'INTEGER', true, 'Outermost VLAN id; null when untagged.'),
      col('tunnel_depth', 'UTINYINT', false, 'Encapsulations peeled off to reach the flow (GTP-U, GRE, IP-in-IP); 0 for none.'),
      col('protocol', 'VARCHAR', true, 'Wire protocol recognised on the flow: an IM protocol (irc, xmpp, msnp, ymsg, oscar, gadugadu, sip, msrp…) or a carrier (tls, quic, dns, http, stun, rtp…); unknown when payload was seen but not recognised, none when the flow carried no payload; null when analysis was off.'),
      col('app', 'VARCHAR', true, 'The IM service (aim, icq, msn, yahoo, irc, xmpp, whatsapp, signal, telegram, teams…); null when the flow is not IM or the app is unknown.'),
      col('app_kind', 'VARCHAR', true, 'What the flow carries for the app: chat, call, file, web (the app used through its web site or web messaging), presence, control.'),
      col('method', 'VARCHAR', true, 'How the app was recognised: payload, sni, quic_sni, certificate, http, dns (a name the client resolved), stun, ip (an address range), port, expected (announced by another flow).'),
      col('confidence', 'DOUBLE', true, 'Confidence of the classification, 0 to 1.'),
      col('server_name', 'VARCHAR', true, 'Server name seen in the flow (TLS/QUIC SNI, certificate name, HTTP Host, protocol greeting) or inherited from a DNS answer.'),
      col('anomalies', 'VARCHAR', true, 'Anomaly codes seen on the flow, comma-separated (details in `anomalies`).'),
      col('encrypted', 'BOOLEAN', true, 'True when the flow\'s content is encrypted (TLS, QUIC, DTLS, an app\'s own encryption, or an IM protocol that switched to TLS with STARTTLS); false when it was read in clear; null when not analysed.'),
    ],
  },
  {
    name: 'accounts',
    doc: 'One row per account seen logging in or speaking, per flow: who uses which IM, from where.',
    columns: [
      ...rowOrigin('When the account was first seen on this flow.'),
      col('app', 'VARCHAR', false, 'Protocol or application the account belongs to.'),
      col('account', 'VARCHAR', false, 'Account identifier as used by the protocol (nickname, screen name, JID, e-mail).'),
      col('display_name', 'VARCHAR', true, 'Display name or real name, when the protocol carries one.'),
      col('client_ip', 'VARCHAR', true, 'Address the account was used from (the flow\'s client).'),
      col('first_seen', 'TIMESTAMP_NS', false, 'First packet showing the account on this flow.'),
      col('last_seen', 'TIMESTAMP_NS', false, 'Last packet showing the account on this flow.'),
      col('server', 'VARCHAR', true, 'Server or domain the account is on (IRC server name, XMPP domain), when the protocol shows it.'),
      col('login', 'VARCHAR', true, 'Login name when distinct from the account (IRC USER name, SASL authentication id).'),
      col('auth', 'VARCHAR', true, 'How the account authenticated when seen: password (sent in clear; the secret itself is never stored), sasl_plain, sasl_scram, sasl_external, none.'),
      col('side', 'VARCHAR', true, 'client: the account used from the flow\'s client; server: the far side (an s2s peer, another participant of a conversation, a DCC offerer).'),
    ],
  },
  {
    name: 'messages',
    doc: 'One row per chat message seen.',
    columns: [
      ...rowOrigin('Timestamp of the packet that completed the message.'),
      col('app', 'VARCHAR', false, 'Protocol or application.'),
      col('sender', 'VARCHAR', true, 'Account that sent the message; null when not visible.'),
      col('recipient', 'VARCHAR', true, 'Account, channel or group the message went to; null when not visible.'),
      col('body', 'VARCHAR', true, 'Message text, decoded from the protocol\'s charset; bytes not valid in it are decoded by the protocol\'s fallback (IRC: ISO-8859-1) or become U+FFFD, and the original bytes are kept in body_raw.'),
      col('body_format', 'VARCHAR', true, 'Format of the body as sent: text, html, rtf, xhtml, markdown.'),
      col('body_raw', 'BLOB', true, 'The body\'s bytes as on the wire when they were not valid text in the expected charset, or when body holds the text of an HTML message (body_format html); null otherwise.'),
      col('direction', 'VARCHAR', true, 'c2s (sent by the flow\'s client) or s2c (delivered to it).'),
      col('kind', 'VARCHAR', true, 'Message type as the protocol names it: privmsg, notice, action, dcc_chat (IRC); chat, groupchat, headline, normal (XMPP).'),
      col('subject', 'VARCHAR', true, 'Subject, when the protocol carries one (XMPP).'),
      col('thread', 'VARCHAR', true, 'Thread or conversation id, when the protocol carries one (XMPP).'),
    ],
  },
  {
    name: 'transfers',
    doc: 'One row per file transfer seen, complete or not.',
    columns: [
      ...rowOrigin('Timestamp of the transfer\'s first data or its offer.'),
      col('app', 'VARCHAR', false, 'Protocol or application.'),
      col('sender', 'VARCHAR', true, 'Account sending the file.'),
      col('recipient', 'VARCHAR', true, 'Account receiving the file.'),
      col('filename', 'VARCHAR', true, 'File name as announced.'),
      col('size', 'BIGINT', true, 'Size in bytes as announced; null when not announced.'),
      col('bytes_seen', 'BIGINT', false, 'Bytes of file data seen in the capture.'),
      col('md5', 'VARCHAR', true, 'MD5 of the data seen, lower-case hex; null when incomplete.'),
      col('sha256', 'VARCHAR', true, 'SHA-256 of the data seen, lower-case hex; null when incomplete.'),
      col('complete', 'BOOLEAN', false, 'Whether every byte of the file was seen.'),
      col('path', 'VARCHAR', true, 'Where the carved file was written; null when not extracted.'),
      col('method', 'VARCHAR', true, 'How the file went: dcc (IRC), ibb, socks5, jingle (XMPP), oft (OSCAR)…'),
    ],
  },
  {
    name: 'contacts',
    doc: 'One row per contact-list entry seen (buddy list, roster, channel member).',
    columns: [
      ...rowOrigin('Timestamp of the packet carrying the entry.'),
      col('app', 'VARCHAR', false, 'Protocol or application.'),
      col('account', 'VARCHAR', false, 'Account whose list holds the contact.'),
      col('contact', 'VARCHAR', false, 'The contact\'s account identifier.'),
      col('group_name', 'VARCHAR', true, 'Group, folder or channel the contact is listed under.'),
      col('state', 'VARCHAR', true, 'Subscription or membership state when known: both, to, from, none (rosters); op, voice, member (channels).'),
    ],
  },
  {
    name: 'events',
    doc: 'One row per session or membership event: logins, joins and parts, nick changes, presence, STARTTLS, DCC offers.',
    columns: [
      ...rowOrigin('Timestamp of the packet carrying the event.'),
      col('app', 'VARCHAR', false, 'Protocol or application.'),
      col('account', 'VARCHAR', true, 'The account the event is about (who joined, who changed nick); null when not visible.'),
      col('event', 'VARCHAR', false, 'What happened: login, join, part, quit, kick, nick, topic, presence, ctcp, dcc_offer, starttls…'),
      col('target', 'VARCHAR', true, 'Channel, room or other account the event concerns.'),
      col('detail', 'VARCHAR', true, 'The rest: new nick, part or quit reason, presence show/status, CTCP command.'),
      col('direction', 'VARCHAR', true, 'c2s (sent by the flow\'s client) or s2c (sent to it).'),
    ],
  },
  {
    name: 'tls',
    doc: 'One row per TLS or QUIC handshake seen: what the client asked for and, before TLS 1.3, what the server answered.',
    columns: [
      ...rowOrigin('Timestamp of the packet that completed the ClientHello.'),
      col('transport', 'VARCHAR', false, 'tls (over TCP), quic (in QUIC Initial packets) or dtls.'),
      col('sni', 'VARCHAR', true, 'Server name the client asked for (SNI); null when absent.'),
      col('ech', 'BOOLEAN', false, 'The ClientHello offered Encrypted ClientHello (the SNI is then the public, outer name).'),
      col('alpn', 'VARCHAR', true, 'ALPN protocols offered, comma-separated in the client\'s order.'),
      col('versions', 'VARCHAR', true, 'TLS versions the client offered (supported_versions, else the ClientHello version), comma-separated: 1.3, 1.2…'),
      col('ja4', 'VARCHAR', true, 'JA4 client fingerprint of the ClientHello.'),
      col('quic_version', 'VARCHAR', true, 'QUIC version of the Initial packets, hex (0x00000001, 0x6b3343cf); null for TLS over TCP.'),
      col('server_version', 'VARCHAR', true, 'TLS version the server chose (ServerHello); null when not seen.'),
      col('cipher', 'VARCHAR', true, 'Cipher suite the server chose, hex (0x1301); null when not seen.'),
      col('cert_subject', 'VARCHAR', true, 'Subject CN of the server certificate, when visible (TLS 1.2 and earlier).'),
      col('cert_names', 'VARCHAR', true, 'Subject alternative DNS names of the server certificate, comma-separated, when visible.'),
      col('cert_issuer', 'VARCHAR', true, 'Issuer of the server certificate (its CN and O), when visible.'),
    ],
  },
  {
    name: 'dns',
    doc: 'One row per DNS question and per answer record, over UDP or TCP (mDNS and LLMNR included).',
    columns: [
      ...rowOrigin('Timestamp of the packet carrying the message.'),
      col('query_id', 'INTEGER', false, 'DNS transaction id.'),
      col('response', 'BOOLEAN', false, 'False for a query, true for a response.'),
      col('qname', 'VARCHAR', true, 'The name asked about (first question), lower-case, without the final dot.'),
      col('qtype', 'VARCHAR', true, 'Record type asked (A, AAAA, CNAME, HTTPS…; TYPEnnn when unnamed).'),
      col('rcode', 'VARCHAR', true, 'Response code (NOERROR, NXDOMAIN…); null for queries.'),
      col('answer_name', 'VARCHAR', true, 'Owner name of the answer record; null on the row of a query or of a response without answers.'),
      col('answer_type', 'VARCHAR', true, 'Type of the answer record.'),
      col('answer', 'VARCHAR', true, 'Answer data as text: an address, a name (CNAME, PTR, NS), or the type\'s presentation form.'),
      col('ttl', 'BIGINT', true, 'Time to live of the answer record, in seconds.'),
    ],
  },
  {
    name: 'http',
    doc: 'One row per plain-HTTP request seen, with its response when seen.',
    columns: [
      ...rowOrigin('Timestamp of the packet that completed the request head.'),
      col('method', 'VARCHAR', false, 'Request method (GET, POST, CONNECT…).'),
      col('host', 'VARCHAR', true, 'Host header (or the authority of an absolute URI).'),
      col('uri', 'VARCHAR', true, 'Request target as sent, cut at 2048 bytes.'),
      col('user_agent', 'VARCHAR', true, 'User-Agent header.'),
      col('content_type', 'VARCHAR', true, 'Content-Type of the request body, when there is one.'),
      col('status', 'INTEGER', true, 'Response status code; null when no response was seen.'),
    ],
  },
  {
    name: 'directory',
    doc: 'Who is who: accounts, addresses and MAC addresses mapped to people and departments (`imtap directory import`), so that reports group by person and department.',
    columns: [
      col('person', 'VARCHAR', false, 'The person (name or employee id) as the directory file gives it.'),
      col('department', 'VARCHAR', true, 'The person\'s department.'),
      col('kind', 'VARCHAR', false, 'What `value` is: account (an IM account), ip (an address or CIDR range), mac.', ['account', 'ip', 'mac']),
      col('value', 'VARCHAR', false, 'The account (as in `accounts.account`), address or range (as in `flows.client_ip`), or MAC address (lower-case, colon-separated).'),
      col('app', 'VARCHAR', true, 'For an account: the app it belongs to (as in `accounts.app`); null for any app.'),
      col('source', 'VARCHAR', true, 'The file the entry was imported from.'),
      col('imported_at', 'TIMESTAMP_NS', false, 'When it was imported (wall clock, UTC).'),
    ],
  },
  {
    name: 'alerts',
    doc: 'One row per watchlist hit: a message (or file name) that matched a watchlist rule, with its provenance.',
    columns: [
      ...rowOrigin('Timestamp of the message or transfer that matched.'),
      col('app', 'VARCHAR', true, 'App of the message.'),
      col('source_table', 'VARCHAR', false, 'Where the match is: messages (the body) or transfers (the file name).', ['messages', 'transfers']),
      col('sender', 'VARCHAR', true, 'Sender of the message or file.'),
      col('recipient', 'VARCHAR', true, 'Recipient: account, channel or room.'),
      col('direction', 'VARCHAR', true, 'c2s or s2c, as in `messages.direction`.'),
      col('watchlist', 'VARCHAR', true, 'The watchlist file the rule comes from.'),
      col('rule', 'VARCHAR', false, 'The rule\'s name (or its pattern when unnamed).'),
      col('severity', 'VARCHAR', false, 'The rule\'s severity: low, medium, high, critical.', ['low', 'medium', 'high', 'critical']),
      col('matched', 'VARCHAR', false, 'The text that matched, as found in the message (after HTML was removed).'),
      col('excerpt', 'VARCHAR', true, 'The message text around the match (at most 200 characters).'),
      col('detected_at', 'TIMESTAMP_NS', false, 'When the hit was found: during ingest or by `imtap alerts rescan` (wall clock, UTC).'),
    ],
  },
  {
    name: 'anomalies',
    doc: 'One row per anomaly: something malformed, truncated or over a limit, named by a protocol-prefixed code.',
    columns: [
      ...rowOrigin('Timestamp of the packet where it was seen.', true).map((c) =>
        c.name === 'flow_id' ? { ...c, doc: 'The flow it was seen on; null for capture-level anomalies.' } : c,
      ),
      col('code', 'VARCHAR', false, 'Anomaly code, snake_case with a protocol prefix (irc_line_size_exceeded, tcp_truncated).'),
      col('detail', 'VARCHAR', true, 'What exactly, with the numbers.'),
      col('file_offset', 'BIGINT', true, 'Byte offset in the capture file of the packet or damage.'),
    ],
  },
  {
    name: 'capture_stats',
    doc: 'Live capture (`imtap live`): the capture figures at each flush, so that drops are visible over time; one row per flush of a live session.',
    columns: [
      ...rowOrigin('When the figures were taken (wall clock, UTC).', true).map((c) => (c.name === 'flow_id' ? { ...c, doc: 'Always null (the figures are of the whole capture).' } : c)),
      col('interface', 'VARCHAR', false, 'The interface captured.'),
      col('packets', 'BIGINT', false, 'Packets imtap read from the capture tool so far.'),
      col('bytes', 'BIGINT', false, 'Bytes of packet data read so far (sum of captured lengths).'),
      col('received', 'BIGINT', true, 'Packets the capture tool says passed its filter (tcpdump: "received by filter"); null when it did not say.'),
      col('dropped_kernel', 'BIGINT', true, 'Packets dropped by the kernel because the capture tool did not read them fast enough (tcpdump: "dropped by kernel").'),
      col('dropped_interface', 'BIGINT', true, 'Packets dropped by the interface or its driver, as the capture tool reports them; null when not reported.'),
      col('if_rx_packets', 'BIGINT', true, 'Packets received by the interface since it came up (/proc/net/dev); null when unavailable.'),
      col('if_rx_dropped', 'BIGINT', true, 'Packets the interface dropped on receive since it came up (/proc/net/dev drop + fifo + missed); null when unavailable.'),
    ],
  },
];

/** The table named `name`; throws naming the known tables when there is none. */
export function tableDef(name: string): TableDef {
  const t = TABLES.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no table ${name} in the schema (tables: ${TABLES.map((x) => x.name).join(', ')})`);
  return t;
}

/** A SQL identifier, quoted so that a reserved word (e.g. `path`, `size`) is never a problem. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;
/** A SQL string literal. */
export const quoteString = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** The column definition as it appears in CREATE TABLE. */
function columnSql(c: ColumnDef): string {
  let sql = `${quoteIdent(c.name)} ${c.type}`;
  if (!c.nullable) sql += ' NOT NULL';
  if (c.values !== undefined) sql += ` CHECK (${quoteIdent(c.name)} IN (${c.values.map(quoteString).join(', ')}))`;
  return sql;
}

/** CREATE TABLE for one table, then COMMENT ON for the table and each column (visible in `duckdb_columns()`). */
export function tableStatements(t: TableDef): string[] {
  const out = [`CREATE TABLE IF NOT EXISTS ${quoteIdent(t.name)} (\n  ${t.columns.map(columnSql).join(',\n  ')}\n)`];
  out.push(`COMMENT ON TABLE ${quoteIdent(t.name)} IS ${quoteString(t.doc)}`);
  for (const c of t.columns) out.push(`COMMENT ON COLUMN ${quoteIdent(t.name)}.${quoteIdent(c.name)} IS ${quoteString(c.doc)}`);
  return out;
}

/**
 * ALTER TABLE … ADD COLUMN for a column of the current schema, with its comment: for migrations. (DuckDB cannot add
 * a column with a constraint, so columns added by a migration are nullable and have no CHECK.)
 */
export function addColumnStatements(table: string, column: string): string[] {
  const c = tableDef(table).columns.find((x) => x.name === column);
  if (c === undefined) throw new Error(`no column ${column} in table ${table}`);
  if (!c.nullable || c.values !== undefined) throw new Error(`${table}.${column}: a column added by a migration must be nullable and unchecked`);
  return [`ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${quoteIdent(c.name)} ${c.type}`, `COMMENT ON COLUMN ${quoteIdent(table)}.${quoteIdent(c.name)} IS ${quoteString(c.doc)}`];
}

/** DDL creating every table of `tables` (by default the current schema, `schema_version` included); idempotent. */
export function createStatements(tables: readonly TableDef[] = TABLES): string[] {
  return tables.flatMap(tableStatements);
}

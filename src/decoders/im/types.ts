/**
 * The contract between the IM protocol analyzers and the pipeline.
 *
 * Each protocol lives in `src/decoders/im/<proto>/` and exports one `ImProtocol` descriptor; `registry.ts` lists
 * them and validates them at start-up (unique ids, declared anomaly codes and limits). The dispatcher
 * (`dispatch.ts`) runs the probes on the first bytes of every flow, creates a session for the protocol that
 * recognises it, replays the bytes it held back, and from then on feeds the session each direction's reassembled
 * bytes in capture order. Sessions report what they find through their `SessionContext`: rows for the `accounts`,
 * `messages`, `transfers`, `contacts`, `events` tables, anomalies, the flow's verdict (confirm / reject / encrypted)
 * and expected side connections (DCC, file-transfer proxies).
 *
 * Rows a session reports before it is confirmed are held by the dispatcher: a session rejected before confirmation
 * ("this is not IRC after all") leaves no rows at all. Confirmation needs evidence from both sides when both are
 * seen; a flow that only ever shows one direction is accepted at the end with a lower confidence.
 *
 * Directions: 0 is client → server (the side that opened the connection), 1 is server → client.
 * Times are `[seconds, nanoseconds]` since the Unix epoch, exact, as the capture holds them.
 */

export type Dir = 0 | 1;
export type Time = readonly [number, number];

/**
 * How a flow's app was recognised (`flows.method`): the protocol's own payload, a TLS or QUIC server name, a server
 * certificate name, an HTTP Host, a name the client resolved by DNS just before, STUN attributes, an IP range, the port
 * (never alone for an IM verdict), or an expectation left by another flow.
 */
export type Method = 'payload' | 'sni' | 'quic_sni' | 'certificate' | 'http' | 'dns' | 'stun' | 'ip' | 'port' | 'expected';

/** Where a host name came from, for `SessionContext.hostName`. */
export type HostSource = 'sni' | 'quic_sni' | 'certificate' | 'http';

/** What a flow carries for its app (`flows.app_kind`). */
export type AppKind = 'chat' | 'call' | 'file' | 'web' | 'presence' | 'control';

/** What a probe says about the first bytes of one direction. */
export const enum Probe {
  /** Not this protocol (never will be on this flow). */
  No = 0,
  /** Cannot tell yet: call again with more bytes (the dispatcher gives up at its budget). */
  Need = 1,
  /** This protocol. */
  Yes = 2,
}

/**
 * A pure, incremental parse step over `data[off, off + len)`: `consumed` bytes were used; `need` > 0 says at least
 * that many more bytes are needed before anything more can be parsed; `error` names an anomaly code when the input is
 * invalid at `at` (an offset into the same view). Parsers may use this shape; the dispatcher only sees `onData`'s
 * consumed count.
 */
export interface Step {
  consumed: number;
  need: number;
  error: string | null;
  at: number;
}

/** An expected side connection (IRC DCC, XMPP SOCKS5 bytestream, AIM rendezvous…). */
export interface ExpectSpec {
  transport: 'tcp' | 'udp';
  /** The address the connection goes to, as text (dotted IPv4, RFC 5952 IPv6). Null when only the connecting side is known. */
  host: string | null;
  /** The address the connection comes from, when `host` is null. */
  from?: string | null;
  port: number;
  /** Seconds of capture time the expectation stays valid. */
  ttl: number;
  /** Id of the protocol descriptor (in the registry) whose session takes the connection. */
  analyzer: string;
  /** Handed to that session's `createSession` as `ctx.expected`. */
  context: unknown;
}

// ── rows, in the schema's column names (src/store/schema.ts); ts, capture_id and flow_id are filled in ──

export interface AccountRow {
  /** Account identifier as the protocol uses it (IRC nick, bare JID, screen name, UIN). */
  account: string;
  display_name?: string | null;
  /** The server (IRC server name, XMPP domain) the account is on, when known. */
  server?: string | null;
  /** Login name when distinct from the account (IRC USER name, SASL authentication id). */
  login?: string | null;
  /** How the account authenticated, when seen: `password` (sent in clear; the secret is never stored), `sasl_plain`, `sasl_scram`, `sasl_external`, `none`… */
  auth?: string | null;
  /** Which side of the flow the account belongs to: 0 the client, 1 the far side (an s2s peer, a switchboard participant, a DCC offerer). Default 0. */
  side?: Dir;
}

export interface MessageRow {
  sender: string | null;
  recipient: string | null;
  body: string | null;
  /** text, html, xhtml, rtf… */
  body_format?: string | null;
  /** The body's bytes when they were not valid text in the protocol's charset. */
  body_raw?: Uint8Array | null;
  /** Protocol message type: privmsg, notice, action (IRC); chat, groupchat, headline, normal (XMPP)… */
  kind?: string | null;
  subject?: string | null;
  thread?: string | null;
  /** Which direction carried it: 0 the client sent it, 1 it was delivered to the client. */
  dir: Dir;
}

export interface TransferRow {
  sender: string | null;
  recipient: string | null;
  filename: string | null;
  size: number | null;
  bytes_seen: number;
  md5: string | null;
  sha256: string | null;
  complete: boolean;
  path: string | null;
  /** How the file went: dcc, ibb, socks5, jingle, oft… */
  method?: string | null;
}

export interface ContactRow {
  /** Whose list holds the contact. */
  account: string;
  contact: string;
  group_name?: string | null;
  /** Subscription or membership state (both, to, from, none; member, op…), when known. */
  state?: string | null;
}

/** A session or membership event: join, part, quit, kick, nick, presence, login, starttls, topic… */
export interface EventRow {
  account: string | null;
  event: string;
  /** Channel, room or other account the event is about. */
  target?: string | null;
  detail?: string | null;
  dir: Dir;
}

/** Where a file carved from a flow goes; created by `SessionContext.openFile`. */
export interface FileSink {
  /** Append `data[off, off + len)` (a view valid only during the call). */
  write(data: Uint8Array, off: number, len: number): void;
  /** `len` bytes of the file are missing (a TCP gap): the transfer cannot be complete. */
  gap(len: number): void;
  /** Close it and report the transfer row (hashes, bytes seen, completeness, path when extracted). */
  close(ts: Time, complete?: boolean): void;
  readonly bytes: number;
}

export interface FileMeta {
  sender: string | null;
  recipient: string | null;
  filename: string | null;
  size: number | null;
  method: string;
}

export interface SessionContext {
  readonly flowId: number;
  readonly transport: 'tcp' | 'udp';
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly serverPort: number;
  /** The context an expectation left, when this flow was announced by another flow; null otherwise. */
  readonly expected: unknown;
  /** The protocol is confirmed (evidence from both sides, or enough from one). Idempotent; later calls may raise the confidence. */
  confirm(confidence: number): void;
  /** Before confirmation: not this protocol after all (rows so far are dropped, the flow is unclassified). After: recorded as an anomaly `<proto>_violation`. */
  reject(reason: string): void;
  /**
   * The flow switched to TLS (STARTTLS, or direct TLS recognised): recorded (`flows.encrypted`, and for an IM protocol
   * an event named `how`); no more data is given to the session. Carriers (tls, quic) call it when they have read what
   * the handshake shows.
   */
  encrypted(how: string, ts: Time): void;
  /** The app (service) when it differs from the protocol id (oscar → aim or icq). */
  setApp(app: string): void;
  /** What the flow carries for the app: chat (default), file, call, presence, control, web. */
  setKind(kind: string): void;
  /** The server's name as the protocol states it (IRC server name, XMPP domain). */
  setServerName(name: string): void;

  // ── evidence for encrypted apps (carrier protocols: tls, quic, dns, http, stun…) ──

  /**
   * The flow's app as this session recognised it from its own evidence (STUN attributes, an app's payload signature):
   * taken when `confidence` is higher than the verdict's so far. `app` null names no app (the protocol only).
   */
  identify(app: string | null, kind: AppKind, method: Method, confidence: number): void;
  /**
   * A host name the flow is for (TLS/QUIC SNI, a server certificate name, an HTTP Host): becomes the flow's
   * `server_name` (the first one given, SNI before certificate) and is matched against the app rules
   * (`src/decoders/apps/rules.ts`); a match sets app, kind, method (= `source`) and confidence as `identify` does.
   * Returns the app matched, or null.
   */
  hostName(name: string, source: HostSource, ts: Time): string | null;
  /** A DNS answer seen on this flow: `name` resolves to `address` (text, as in SessionContext) for `ttl` seconds. Fills the DNS cache that later flows inherit a name from (`method` = dns). */
  resolved(ts: Time, name: string, address: string, ttl: number): void;
  /** A row for one of the protocol's own tables (declared in its descriptor's `tables`: tls, dns, http), with `ts` and the table's own columns; flow_id and capture_id are filled in. */
  row(table: string, row: Record<string, string | number | boolean | null | Time>): void;
  /** Change the flow's protocol (stun → rtp once the media starts, http → websocket…). */
  setProtocol(protocol: string): void;
  /** The session has seen all it wants (its budget is spent or the rest is encrypted): no more bytes are given to it; the verdict stays. */
  done(): void;
  /**
   * State shared by the sessions of one run (one dispatcher: one `imtap ingest`, one `analyzeCapture`), created by
   * `make` on first use: caches that reach across flows, such as the STUN endpoints whose calls an app was named for.
   * Keys start with the protocol's id (`stun.endpoints`). Never process-wide, so two runs never see each other's state.
   */
  runState<T>(key: string, make: () => T): T;
  account(ts: Time, row: AccountRow): void;
  message(ts: Time, row: MessageRow): void;
  transfer(ts: Time, row: TransferRow): void;
  contact(ts: Time, row: ContactRow): void;
  event(ts: Time, row: EventRow): void;
  /** An anomaly: `code` is protocol-prefixed snake_case and declared in the descriptor's `anomalies`. */
  anomaly(ts: Time, code: string, detail: string): void;
  /** Announce a side connection (see ExpectSpec). */
  expect(ts: Time, spec: ExpectSpec): void;
  /** A sink that hashes (MD5, SHA-256) and, when extraction is on, writes a safely named file. */
  openFile(ts: Time, meta: FileMeta): FileSink;
}

export interface ImSession {
  /**
   * In-order bytes `data[off, off + len)` of direction `dir`, completed by the packet at `ts` (a view valid only
   * during the call). Return how many bytes were consumed; the rest is kept and offered again, followed by the next
   * bytes of the same direction.
   */
  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number;
  /** `len` bytes of direction `dir` are missing and will never come; unconsumed bytes before the gap were dropped. */
  onGap(dir: Dir, len: number, ts: Time): void;
  /** Direction `dir` ended (FIN, RST, or the flow ended). */
  onEnd(dir: Dir, ts: Time): void;
  /** The flow is over: flush what is pending (an open transfer, a partial message). Called once, last. */
  finish(ts: Time): void;
}

export interface ImProtocol {
  /** Stable id, used as `flows.protocol` and as the default `app`: irc, xmpp, msnp… */
  readonly id: string;
  readonly name: string;
  readonly transport: 'tcp' | 'udp' | 'both';
  /**
   * Default `app` for its rows (defaults to `id`). Null for a carrier protocol (tls, quic, dns, http, stun…): its
   * flows name an app only when the evidence does (`identify`, `hostName`, the DNS cache, IP ranges).
   */
  readonly app?: string | null;
  /** Tables besides the IM ones its sessions write with `ctx.row` (tls, dns, http). */
  readonly tables?: readonly string[];
  /** Ports it is commonly found on: probes of these protocols run first; never a verdict on its own. */
  readonly ports: readonly number[];
  /**
   * Examine the first bytes of one direction (`dir`), from the start of the stream (or from the first bytes seen
   * when the connection was picked up mid-stream, `midstream`). Null for analyzers that only take expected
   * connections (DCC data). Pure: no state, no allocation worth speaking of.
   */
  readonly probe: ((data: Uint8Array, off: number, len: number, dir: Dir, midstream: boolean) => Probe) | null;
  readonly createSession: (ctx: SessionContext) => ImSession;
  /** Named limits with their defaults (documented in the protocol's README). */
  readonly limits: Readonly<Record<string, number>>;
  /** Every anomaly code the protocol may report, with its meaning. */
  readonly anomalies: Readonly<Record<string, string>>;
}

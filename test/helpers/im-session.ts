/**
 * Drive one IM session directly, without packets: a SessionContext that records everything the session reports, and
 * a feeder that hands it byte streams the way the dispatcher does (keeping unconsumed bytes, in chunks of any size).
 * For unit tests of a protocol's session; the pipeline itself is tested through `analyzeCapture`.
 */
import type { AccountRow, ContactRow, Dir, EventRow, ExpectSpec, FileMeta, FileSink, ImProtocol, ImSession, MessageRow, SessionContext, Time, TransferRow } from '../../src/decoders/im/types.js';
import { createHash } from 'node:crypto';

export interface Recorded {
  accounts: (AccountRow & { ts: Time })[];
  messages: (MessageRow & { ts: Time })[];
  transfers: (TransferRow & { ts: Time })[];
  contacts: (ContactRow & { ts: Time })[];
  events: (EventRow & { ts: Time })[];
  anomalies: { ts: Time; code: string; detail: string }[];
  expects: (ExpectSpec & { ts: Time })[];
  confirmed: number | null;
  rejected: string | null;
  encrypted: string | null;
  app: string | null;
  kind: string | null;
  serverName: string | null;
  /** identify() and hostName() calls, in order. */
  identified: { app: string | null; kind: string; method: string; confidence: number }[];
  hostNames: { name: string; source: string }[];
  resolved: { name: string; address: string; ttl: number }[];
  /** ctx.row() rows per table. */
  rows: Record<string, Record<string, unknown>[]>;
  protocol: string | null;
  done: boolean;
  files: Map<string, Buffer>;
}

export interface Endpoints {
  flowId?: number;
  transport?: 'tcp' | 'udp';
  clientIp?: string;
  clientPort?: number;
  serverIp?: string;
  serverPort?: number;
  expected?: unknown;
}

/** `ctx.runState` of the recording contexts: one run per test process unless cleared. */
const runStates = new Map<string, unknown>();

/** Start a new "run": forget the state sessions share across flows (STUN endpoints…). */
export function clearRunState(): void {
  runStates.clear();
}

export function recordingContext(ep: Endpoints = {}): { ctx: SessionContext; rec: Recorded } {
  const rec: Recorded = {
    accounts: [],
    messages: [],
    transfers: [],
    contacts: [],
    events: [],
    anomalies: [],
    expects: [],
    confirmed: null,
    rejected: null,
    encrypted: null,
    app: null,
    kind: null,
    serverName: null,
    identified: [],
    hostNames: [],
    resolved: [],
    rows: {},
    protocol: null,
    done: false,
    files: new Map(),
  };
  const ctx: SessionContext = {
    flowId: ep.flowId ?? 1,
    transport: ep.transport ?? 'tcp',
    clientIp: ep.clientIp ?? '192.0.2.1',
    clientPort: ep.clientPort ?? 40000,
    serverIp: ep.serverIp ?? '198.51.100.1',
    serverPort: ep.serverPort ?? 6667,
    expected: ep.expected ?? null,
    confirm: (c) => {
      rec.confirmed = Math.max(rec.confirmed ?? 0, c);
    },
    reject: (r) => {
      rec.rejected = r;
    },
    encrypted: (how) => {
      rec.encrypted = how;
    },
    setApp: (a) => {
      rec.app = a;
    },
    setKind: (k) => {
      rec.kind = k;
    },
    setServerName: (n) => {
      rec.serverName = n;
    },
    identify: (app, kind, method, confidence) => void rec.identified.push({ app, kind, method, confidence }),
    hostName: (name, source) => {
      rec.hostNames.push({ name, source });
      rec.serverName ??= name;
      return null;
    },
    resolved: (_ts, name, address, ttl) => void rec.resolved.push({ name, address, ttl }),
    row: (table, r) => void (rec.rows[table] ??= []).push({ ...r }),
    setProtocol: (p) => {
      rec.protocol = p;
    },
    done: () => {
      rec.done = true;
    },
    runState: <T>(key: string, make: () => T): T => {
      let v = runStates.get(key) as T | undefined;
      if (v === undefined) {
        v = make();
        runStates.set(key, v);
      }
      return v;
    },
    account: (ts, row) => void rec.accounts.push({ ts, ...row }),
    message: (ts, row) => void rec.messages.push({ ts, ...row }),
    transfer: (ts, row) => void rec.transfers.push({ ts, ...row }),
    contact: (ts, row) => void rec.contacts.push({ ts, ...row }),
    event: (ts, row) => void rec.events.push({ ts, ...row }),
    anomaly: (ts, code, detail) => void rec.anomalies.push({ ts, code, detail }),
    expect: (ts, spec) => void rec.expects.push({ ts, ...spec }),
    openFile: (ts0, meta: FileMeta): FileSink => {
      const parts: Buffer[] = [];
      const md5 = createHash('md5');
      const sha = createHash('sha256');
      let bytes = 0;
      let gaps = 0;
      return {
        get bytes() {
          return bytes;
        },
        write(data, off, len) {
          const b = Buffer.from(data.subarray(off, off + len));
          parts.push(b);
          md5.update(b);
          sha.update(b);
          bytes += len;
        },
        gap(len) {
          gaps += len;
        },
        close(ts, complete) {
          const done = complete ?? (gaps === 0 && meta.size !== null && bytes >= meta.size);
          rec.files.set(meta.filename ?? `file-${rec.files.size}`, Buffer.concat(parts));
          rec.transfers.push({
            ts: ts0 ?? ts,
            sender: meta.sender,
            recipient: meta.recipient,
            filename: meta.filename,
            size: meta.size,
            bytes_seen: bytes,
            md5: done ? md5.digest('hex') : null,
            sha256: done ? sha.digest('hex') : null,
            complete: done,
            path: null,
            method: meta.method,
          });
        },
      };
    },
  };
  return { ctx, rec };
}

/**
 * Feed a session a conversation: `parts` are [direction, bytes] in the order they were sent; each part is handed on
 * in pieces of at most `chunk` bytes (Infinity: whole), with unconsumed bytes kept and offered again with the next
 * bytes of the same direction, as the dispatcher does; a part `{ gap: n }` reports a hole of n bytes. Ends both
 * directions and finishes the session.
 */
export function feed(session: ImSession, parts: [Dir, Uint8Array | string | { gap: number }][], chunk = Infinity, t0 = 1_700_000_000): void {
  const carry: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)];
  let i = 0;
  for (const [dir, p] of parts) {
    if (typeof p === 'object' && 'gap' in p) {
      // A hole, as the dispatcher reports it: unconsumed bytes before it are dropped.
      carry[dir] = new Uint8Array(0);
      session.onGap(dir, p.gap, [t0 + i++, 0]);
      continue;
    }
    const bytes = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
    for (let at = 0; at < bytes.length; at += chunk) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + chunk));
      const prev = carry[dir];
      const data = prev.length === 0 ? piece : Buffer.concat([prev, piece]);
      const ts: Time = [t0 + i++, 0];
      const used = session.onData(dir, data, 0, data.length, ts);
      carry[dir] = used >= data.length ? new Uint8Array(0) : Uint8Array.from(data.subarray(used));
    }
  }
  const end: Time = [t0 + i + 1, 0];
  session.onEnd(0, end);
  session.onEnd(1, end);
  session.finish(end);
}

/** A new session of `proto` with a recording context. */
export function startSession(proto: ImProtocol, ep: Endpoints = {}): { session: ImSession; rec: Recorded; ctx: SessionContext } {
  const { ctx, rec } = recordingContext(ep);
  return { session: proto.createSession(ctx), rec, ctx };
}

/**
 * The dispatcher: between the flow table and the IM protocol sessions. For every flow it
 *
 * 1. holds back a copy of the first bytes of each direction (at most `detectBytes` per direction)
 *    and runs the registered probes on them, ports hinted first, until one says Yes or all say No (payload decides,
 *    never the port alone);
 * 2. creates that protocol's session and replays the held bytes in capture order, then feeds it the rest of the
 *    flow as it is reassembled, keeping whatever the session did not consume (bounded by `maxPendingBytes`);
 * 3. takes connections announced by an expectation (DCC, bytestreams) straight to the analyzer named, with its context;
 * 4. holds the rows a session reports until it is confirmed: a session rejected before confirmation leaves no rows.
 *    A session never confirmed is accepted when its flow ends with a lower confidence (one-sided: 0.6, else 0.5).
 *
 * Rows go to `ImOutput` in the schema's column names (src/store/schema.ts), without `capture_id` (the caller's).
 * The flow's verdict (protocol, app, kind, method, confidence, server name, encrypted) is left in `imVerdict(flow)`
 * for the flow row, which the caller writes after `onFlowEnd` returns.
 */
import type { FlowHandler, FlowTable } from '../../flows/flow-table.js';
import { C_FIRST_SEC, C_LAST_NSEC, C_LAST_SEC, C_PAYLOAD, clientText, serverText, type Flow } from '../../flows/flow.js';
import type { StreamSink } from '../../flows/tcp-stream.js';
import { openFileSink, type ExtractOptions } from './file-sink.js';
import type { Registry } from './registry.js';
import { Probe, type AccountRow, type AppKind, type ContactRow, type Dir, type EventRow, type ExpectSpec, type FileMeta, type FileSink, type HostSource, type ImProtocol, type ImSession, type MessageRow, type Method, type SessionContext, type Time, type TransferRow } from './types.js';
import { NO_RULES, type AppRules } from '../apps/rules.js';
import type { NameCache } from '../apps/dns-cache.js';
import { looksEncrypted } from '../apps/entropy.js';

export interface DispatchLimits {
  /** Bytes per direction held back for the probes; a flow no probe recognised by then is left unclassified. */
  detectBytes: number;
  /** Unconsumed bytes a session may leave per direction before they are dropped (anomaly im_pending_limit). */
  maxPendingBytes: number;
}

export const DEFAULT_DISPATCH_LIMITS: DispatchLimits = { detectBytes: 8192, maxPendingBytes: 1 << 20 };

export type RowValue = string | number | boolean | null | Uint8Array | Time;
export type ImRow = Record<string, RowValue>;

export interface ImOutput {
  /** A row for `table` (accounts, messages, transfers, contacts, events, anomalies), capture_id left out. */
  row(table: string, row: ImRow): void;
}

export interface Verdict {
  /** Wire protocol: an IM protocol or a carrier (tls, quic, dns, http, stun…); `unknown` (payload not recognised), `none` (no payload). */
  protocol: string;
  /** The IM app, or null when the flow is not (known to be) IM. */
  app: string | null;
  kind: string | null;
  method: Method | null;
  /** Of the app when there is one, else of the protocol; null for unknown and none. */
  confidence: number | null;
  serverName: string | null;
  encrypted: boolean;
}

/** Confidence of an app inherited from a name the client resolved (rule confidence less this). */
const DNS_DISCOUNT = 0.1;

const enum St {
  Detecting = 0,
  Active = 1,
  /** Gave up, rejected, or encrypted: no more bytes are looked at. */
  Done = 2,
}

interface Held {
  dir: Dir;
  /** The bytes are data[off, off + len) (a part of the probe buffer); null: a gap of `len` bytes. */
  data: Uint8Array | null;
  off: number;
  len: number;
  ts: Time;
}

const dirText = (d: Dir): string => (d === 0 ? 'c2s' : 's2c');
const EMPTY = new Uint8Array(0);

/** Per-flow IM state, kept in `flow.user`. */
class FlowIm {
  st = St.Detecting;
  proto: ImProtocol | null = null;
  session: ImSession | null = null;
  ctx: FlowContext | null = null;
  candidates: readonly ImProtocol[];
  held: Held[] = [];
  heldBytes: [number, number] = [0, 0];
  /**
   * Bytes of each direction seen by the probes (the held ones since the last gap), copied together into a buffer that
   * grows by doubling: `probeLen` bytes are used, the held chunks are parts of them (never written again; a gap or a
   * larger buffer starts a new one).
   */
  probeBuf: [Uint8Array, Uint8Array] = [EMPTY, EMPTY];
  probeLen: [number, number] = [0, 0];
  midstream: [boolean, boolean] = [false, false];
  /**
   * What the session left unconsumed per direction: carry[dir][carryOff, carryOff + carryLen), in a buffer the
   * dispatcher owns. The next bytes are appended after it while there is room (a new buffer, twice the size, when
   * not); bytes once written there are never overwritten.
   */
  carry: [Uint8Array | null, Uint8Array | null] = [null, null];
  carryOff: [number, number] = [0, 0];
  carryLen: [number, number] = [0, 0];
  sawData: [boolean, boolean] = [false, false];
  ended: [boolean, boolean] = [false, false];
  verdict: Verdict | null = null;
  /** Confidence of the protocol (confirm) and of the app when evidence named it (identify, hostName); -1: none yet. */
  protoConf = 0;
  appConf = -1;
  /** The payload no analyzer recognised looked encrypted (entropy.ts). */
  highEntropy = false;
  /** A site rule matched a host name of the flow: a visit to an app's web site, so no app is inherited by DNS or IP range. */
  site = false;
  confirmed = false;
  rejected = false;
  /** Rows waiting for confirmation (made on the first such row; most flows never report one). */
  pending: [string, ImRow][] | null = null;
  /** Account rows by side and account, written when the flow ends (made on the first account). */
  accounts: Map<string, ImRow> | null = null;

  constructor(candidates: readonly ImProtocol[]) {
    this.candidates = candidates;
  }
}

/** The verdict the dispatcher left on a flow when it is IM (an app is named); null otherwise. Valid during `onFlowEnd`. */
export function imVerdict(flow: Flow): Verdict | null {
  const v = flow.user instanceof FlowIm ? flow.user.verdict : null;
  return v !== null && v.app !== null ? v : null;
}

/** The verdict on every flow the dispatcher looked at: protocol always, app when known. Null when not analysed. */
export function flowVerdict(flow: Flow): Verdict | null {
  return flow.user instanceof FlowIm ? flow.user.verdict : null;
}

export interface DispatchOptions {
  output: ImOutput;
  /** Called after the dispatcher finished with a flow (the flow row can be written then). */
  onFlowEnd?: (flow: Flow) => void;
  limits?: Partial<DispatchLimits>;
  extract?: ExtractOptions;
  /** Host-name and address rules naming apps (default: none). */
  rules?: AppRules;
  /** Names clients resolved, shared by the flows of a run (default: none kept). */
  names?: NameCache | null;
}

export class Dispatcher implements FlowHandler {
  /** The flow table whose expectations and clock the sessions use (see attach). */
  table: FlowTable | null = null;
  readonly limits: DispatchLimits;
  readonly extract: ExtractOptions;
  private readonly rules: AppRules;
  readonly names: NameCache | null;
  /** `ctx.runState`: state the sessions of this run share. */
  readonly shared = new Map<string, unknown>();
  /** The ports some probe of each transport names. */
  private readonly tcpPorts: ReadonlySet<number>;
  private readonly udpPorts: ReadonlySet<number>;
  /** The probe order for a flow with one hinted port (the other on no probe's port), per transport: made once per port. */
  private readonly tcpByPort = new Map<number, readonly ImProtocol[]>();
  private readonly udpByPort = new Map<number, readonly ImProtocol[]>();
  /**
   * Probe buffers of PROBE_BUF bytes whose flow was decided or ended, for the next undecided flows (a new buffer costs
   * more than its size): at most SPARE_BUFS. Their old bytes are never read (probes and sessions read [off, off + len)).
   */
  private readonly spare: Uint8Array[] = [];
  /** Counters for the summary. */
  readonly stats = { classified: 0, confirmed: 0, rejected: 0, encrypted: 0, expected: 0, gaveUp: 0, byDns: 0, byIp: 0 };

  constructor(
    readonly registry: Registry,
    private readonly opts: DispatchOptions,
  ) {
    this.limits = { ...DEFAULT_DISPATCH_LIMITS, ...opts.limits };
    this.extract = opts.extract ?? { dir: null, prefix: 'c0' };
    this.rules = opts.rules ?? NO_RULES;
    this.names = opts.names ?? null;
    this.tcpPorts = new Set(registry.tcpProbes.flatMap((p) => p.ports));
    this.udpPorts = new Set(registry.udpProbes.flatMap((p) => p.ports));
  }

  /** The flow table whose expectations and clock the sessions use. */
  attach(table: FlowTable): void {
    this.table = table;
  }

  onFlowStart(f: Flow): void {
    const tcp = f.proto === 6;
    if (f.expected !== null) {
      const proto = this.registry.get(f.expected.analyzer);
      if (proto !== undefined) {
        const im = new FlowIm(NO_PROBES);
        f.user = im;
        this.stats.expected++;
        this.start(f, im, proto, 'expected', f.expected.context);
        return;
      }
    }
    const probes = tcp ? this.registry.tcpProbes : this.registry.udpProbes;
    if (probes.length === 0) return;
    // Protocols whose usual port the flow uses are asked first; all are asked. A flow on no protocol's port (most)
    // shares the registry's list, one on a single hinted port the list made for that port: candidate lists are
    // replaced, never changed in place.
    const ports = tcp ? this.tcpPorts : this.udpPorts;
    const s = ports.has(f.sport);
    const c = ports.has(f.cport);
    if (!s && !c) {
      f.user = new FlowIm(probes);
      return;
    }
    if (s !== c || f.sport === f.cport) {
      const port = s ? f.sport : f.cport;
      const byPort = tcp ? this.tcpByPort : this.udpByPort;
      let list = byPort.get(port);
      if (list === undefined) {
        list = hintedFirst(probes, port, port);
        byPort.set(port, list);
      }
      f.user = new FlowIm(list);
      return;
    }
    f.user = new FlowIm(hintedFirst(probes, f.sport, f.cport));
  }

  streamSink(f: Flow, dir: 0 | 1): StreamSink | null {
    const im = f.user;
    if (!(im instanceof FlowIm) || im.st === St.Done) return null;
    return new StreamSide(this, f, im, dir);
  }

  onDatagram(f: Flow, dir: 0 | 1, buf: Uint8Array, off: number, len: number, tsSec: number, tsNsec: number): void {
    const im = f.user;
    if (!(im instanceof FlowIm) || im.st === St.Done) return;
    this.data(f, im, dir, buf, off, len, tsSec, tsNsec, false);
  }

  onFlowEnd(f: Flow): void {
    const im = f.user;
    if (im instanceof FlowIm) this.finishFlow(f, im);
    this.opts.onFlowEnd?.(f);
  }

  // ── detection ──

  /** Bytes of one direction (a view valid during the call), at the time of the packet that completed them. */
  data(f: Flow, im: FlowIm, dir: Dir, data: Uint8Array, off: number, len: number, tsSec: number, tsNsec: number, midstream: boolean): void {
    if (len <= 0) return;
    im.sawData[dir] = true;
    if (im.st === St.Active) {
      this.deliver(f, im, dir, data, off, len, [tsSec, tsNsec]);
      return;
    }
    // Detecting: ask the probes about this direction's bytes so far. For the first chunk they look at the packet's
    // own bytes, so that the common case — a flow every probe rules out at once (TLS, HTTP…) — copies nothing.
    if (midstream) im.midstream[dir] = true;
    const prevLen = im.probeLen[dir];
    let buf = data;
    let bo = off;
    let bl = Math.min(len, Math.max(this.limits.detectBytes - prevLen, 0));
    if (prevLen > 0) {
      // Appended after the bytes held so far (the probes see them together); kept only if the flow stays undecided.
      buf = this.room(im, dir, prevLen, bl);
      buf.set(data.subarray(off, off + bl), prevLen);
      bo = 0;
      bl += prevLen;
    }
    let chosen: ImProtocol | null = null;
    // The candidates that still need bytes: made only when one drops out (a No), else the list stays as it is.
    let still: ImProtocol[] | null = null;
    let undecided = 0;
    const cands = im.candidates;
    const mid = im.midstream[dir]!;
    for (let i = 0; i < cands.length; i++) {
      const p = cands[i]!;
      const r = p.probe!(buf, bo, bl, dir, mid);
      if (r === Probe.Yes) {
        chosen = p;
        break;
      }
      if (r === Probe.Need) {
        undecided++;
        if (still !== null) still.push(p);
      } else if (still === null) still = cands.slice(0, i);
    }
    im.heldBytes[dir] += len;
    // The budget is in bytes, not packets, so that how the sender's bytes were segmented changes nothing.
    if (chosen === null && (undecided === 0 || im.heldBytes[dir] >= this.limits.detectBytes)) {
      im.highEntropy = looksEncrypted(buf, bo, bl);
      this.giveUp(im);
      return;
    }
    const ts: Time = [tsSec, tsNsec];
    if (chosen !== null) {
      // The bytes held before are replayed, then these go straight to the session: no copy of them is kept.
      if (this.start(f, im, chosen, 'payload', null)) this.deliver(f, im, dir, data, off, len, ts);
      return;
    }
    // Held for the replay: the bytes are kept in the probe buffer (the view is only valid during this call). Still
    // undecided under the budget, so the whole chunk went to the probes (bl = len).
    if (prevLen === 0) {
      buf = this.room(im, dir, 0, len);
      buf.set(data.subarray(off, off + len), 0);
    }
    im.held.push({ dir, data: buf, off: prevLen, len, ts });
    im.probeLen[dir] = prevLen + len;
    if (still !== null) im.candidates = still;
  }

  /** The probe buffer of `dir` with room for `more` bytes after the `used` ones (a larger copy when it is full). */
  private room(im: FlowIm, dir: Dir, used: number, more: number): Uint8Array {
    const cur = im.probeBuf[dir];
    if (used + more <= cur.length) return cur;
    // At least 1 KiB to start with: most undecided flows are UDP with small datagrams, and each new buffer costs more
    // than its size (a spare one is taken when there is one).
    const size = Math.min(Math.max(used + more, 2 * cur.length, PROBE_BUF), Math.max(this.limits.detectBytes, used + more));
    const next = size === PROBE_BUF && this.spare.length > 0 ? this.spare.pop()! : new Uint8Array(size);
    if (used > 0) next.set(cur.subarray(0, used), 0);
    im.probeBuf[dir] = next;
    return next;
  }

  gap(f: Flow, im: FlowIm, dir: Dir, len: number): void {
    if (im.st === St.Active) {
      im.carry[dir] = null;
      im.session!.onGap(dir, len, this.lastTime(f, dir));
      return;
    }
    // The probes restart after a hole, on the bytes that follow it (as for a connection picked up mid-stream).
    im.held.push({ dir, data: null, off: 0, len, ts: this.lastTime(f, dir) });
    im.probeBuf[dir] = EMPTY;
    im.probeLen[dir] = 0;
    im.midstream[dir] = true;
  }

  /** The end of one direction's stream (FIN, RST, or the flow ended). */
  end(f: Flow, im: FlowIm, dir: Dir): void {
    if (im.st === St.Active && !im.ended[dir]) {
      im.ended[dir] = true;
      im.session!.onEnd(dir, this.lastTime(f, dir));
    }
  }

  /** The flow's probe buffers are no longer read (the held chunks were dropped or replayed): kept for other flows. */
  private releaseProbeBufs(bufs: [Uint8Array, Uint8Array]): void {
    for (const b of bufs) if (b.length === PROBE_BUF && this.spare.length < SPARE_BUFS) this.spare.push(b);
  }

  private giveUp(im: FlowIm): void {
    im.st = St.Done;
    im.held = [];
    this.releaseProbeBufs(im.probeBuf);
    im.probeBuf = [EMPTY, EMPTY];
    im.probeLen = [0, 0];
    im.candidates = NO_PROBES;
    im.pending = null;
    this.stats.gaveUp++;
  }

  /** Create the session and replay the held bytes to it; returns whether it still takes bytes. */
  private start(f: Flow, im: FlowIm, proto: ImProtocol, method: 'payload' | 'expected', context: unknown): boolean {
    im.proto = proto;
    im.st = St.Active;
    const app = proto.app === undefined ? proto.id : proto.app;
    im.verdict = { protocol: proto.id, app, kind: app === null ? null : 'chat', method: app === null ? null : method, confidence: 0, serverName: null, encrypted: false };
    im.protoConf = 0;
    im.appConf = -1;
    im.ctx = new FlowContext(this, f, im, proto, context);
    im.session = proto.createSession(im.ctx);
    this.stats.classified++;
    const held = im.held;
    const bufs = im.probeBuf;
    im.probeBuf = [EMPTY, EMPTY];
    im.probeLen = [0, 0];
    im.candidates = NO_PROBES;
    if (held.length === 0) return true;
    im.held = [];
    for (const h of held) {
      if (im.st !== St.Active) break;
      if (h.data === null) {
        im.carry[h.dir] = null;
        im.session.onGap(h.dir, h.len, h.ts);
      } else this.deliver(f, im, h.dir, h.data, h.off, h.len, h.ts);
    }
    // Sessions keep nothing of what they are given (deliver copies what they leave unconsumed).
    this.releaseProbeBufs(bufs);
    return im.st === St.Active;
  }

  /** Hand bytes to the session, prefixed with what it left unconsumed last time. */
  private deliver(f: Flow, im: FlowIm, dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): void {
    let buf = data;
    let start = off;
    let n = len;
    const carry = im.carry[dir];
    if (carry !== null) {
      const cl = im.carryLen[dir];
      start = im.carryOff[dir];
      n = cl + len;
      if (start + n <= carry.length) buf = carry;
      else {
        buf = new Uint8Array(2 * n);
        buf.set(carry.subarray(start, start + cl), 0);
        start = 0;
        im.carry[dir] = buf;
      }
      buf.set(data.subarray(off, off + len), start + cl);
    }
    const used = im.session!.onData(dir, buf, start, n, ts);
    if (im.st !== St.Active) return;
    const rest = n - Math.max(0, Math.min(used, n));
    if (rest === 0) {
      im.carry[dir] = null;
      return;
    }
    if (rest > this.limits.maxPendingBytes) {
      im.carry[dir] = null;
      this.emit(im, 'anomalies', { ts, flow_id: f.id, code: 'im_pending_limit', detail: `${proto(im)} left ${rest} bytes unconsumed ${dirText(dir)}, over the limit of ${this.limits.maxPendingBytes}: dropped`, file_offset: null });
      im.session!.onGap(dir, rest, ts);
      return;
    }
    if (buf === data) {
      // A copy (the view is only valid during this call), with room for as much again.
      const keep = new Uint8Array(2 * rest);
      keep.set(data.subarray(start + n - rest, start + n), 0);
      im.carry[dir] = keep;
      im.carryOff[dir] = 0;
    } else im.carryOff[dir] = start + n - rest;
    im.carryLen[dir] = rest;
  }

  // ── rows and verdicts (the session contexts call these) ──

  emit(im: FlowIm, table: string, row: ImRow): void {
    if (im.rejected) return;
    if (im.confirmed) this.opts.output.row(table, row);
    else (im.pending ??= []).push([table, row]);
  }

  confirm(im: FlowIm, confidence: number): void {
    const v = im.verdict;
    if (v === null || im.rejected) return;
    im.protoConf = Math.max(im.protoConf, Math.min(1, Math.max(0, confidence)));
    v.confidence = im.appConf >= 0 ? im.appConf : im.protoConf;
    if (im.confirmed) return;
    im.confirmed = true;
    this.stats.confirmed++;
    const rows = im.pending;
    im.pending = null;
    if (rows !== null) for (const [t, r] of rows) this.opts.output.row(t, r);
  }

  /** Before confirmation: not this protocol after all. After: an anomaly `<proto>_violation`. Stops the session either way. */
  reject(f: Flow, im: FlowIm, reason: string): void {
    if (im.rejected) return;
    if (!im.confirmed) {
      im.rejected = true;
      im.pending = null;
      im.verdict = null;
      im.accounts = null;
      this.stats.rejected++;
      this.stats.classified--;
    } else {
      this.emit(im, 'anomalies', { ts: this.flowEndTime(f), flow_id: f.id, code: `${im.proto!.id.split('-')[0]}_violation`, detail: reason, file_offset: null });
    }
    stop(im);
  }

  encrypted(f: Flow, im: FlowIm, how: string, ts: Time): void {
    if (im.verdict === null) return;
    im.verdict.encrypted = true;
    this.stats.encrypted++;
    // An IM protocol switching to TLS is an event of the session; a carrier (tls, quic) is encrypted from the start.
    if (im.verdict.app !== null && im.proto?.app !== null) {
      this.emit(im, 'events', { ts, flow_id: f.id, app: im.verdict.app, account: null, event: how, target: null, detail: 'the rest of the flow is encrypted', direction: null });
    }
    stop(im);
  }

  /** The app named by evidence (identify, hostName, DNS, IP range), taken when surer than what the flow has. */
  identify(im: FlowIm, app: string | null, kind: AppKind, method: Method, confidence: number): void {
    const v = im.verdict;
    if (v === null || im.rejected) return;
    const c = Math.min(1, Math.max(0, confidence));
    // An app the protocol itself names (IRC, XMPP…) is only replaced by surer evidence.
    const held = im.appConf >= 0 ? im.appConf : v.app !== null ? v.confidence ?? 0 : -1;
    if (c <= held) return;
    v.app = app;
    v.kind = app === null ? null : kind;
    v.method = app === null ? null : method;
    im.appConf = c;
    v.confidence = c;
  }

  hostName(im: FlowIm, name: string, source: Method): string | null {
    const v = im.verdict;
    if (v === null || im.rejected) return null;
    v.serverName ??= name;
    const m = this.rules.matchHost(name);
    if (m === null) return null;
    if (m.app === null) {
      im.site = true;
      return null;
    }
    this.identify(im, m.app, m.kind, source, m.confidence);
    return m.app;
  }

  /** Flows no evidence named an app for: the name the client resolved for the server, else the server's address range. */
  private inherit(f: Flow, im: FlowIm): void {
    const v = im.verdict!;
    if (v.app !== null || im.site) return;
    if (this.names !== null) {
      // A flow with a session has its addresses as text already.
      const ctx = im.ctx;
      const name = ctx !== null ? this.names.lookup(ctx.clientIp, ctx.serverIp, f.c[C_FIRST_SEC]!) : this.names.lookup(clientText(f), serverText(f), f.c[C_FIRST_SEC]!);
      if (name !== null) {
        v.serverName ??= name;
        const m = this.rules.matchHost(name);
        if (m !== null && m.app === null) return;
        if (m !== null) {
          this.identify(im, m.app, m.kind, 'dns', Math.max(0.05, m.confidence - DNS_DISCOUNT));
          this.stats.byDns++;
          return;
        }
      }
    }
    const m = this.rules.matchAddressWords(f.ipVersion, f.s0, f.s1, f.s2, f.s3);
    if (m !== null && m.app !== null) {
      this.identify(im, m.app, m.kind, 'ip', m.confidence);
      this.stats.byIp++;
    }
  }

  private finishFlow(f: Flow, im: FlowIm): void {
    this.finishSession(f, im);
    // Every flow looked at gets a protocol: `unknown` when payload was seen and nothing recognised it, `none` without payload.
    if (im.verdict === null) {
      const payload = im.sawData[0] || im.sawData[1] || f.c[C_PAYLOAD]! + f.c[C_PAYLOAD + 1]! > 0;
      im.verdict = { protocol: payload ? 'unknown' : 'none', app: null, kind: null, method: null, confidence: null, serverName: null, encrypted: im.highEntropy };
      im.appConf = -1;
    }
    this.inherit(f, im);
  }

  private finishSession(f: Flow, im: FlowIm): void {
    if (im.session !== null && !im.rejected) {
      const end = this.flowEndTime(f);
      if (im.st === St.Active) {
        for (const d of [0, 1] as const) {
          if (!im.ended[d]) {
            im.ended[d] = true;
            im.session.onEnd(d, end);
          }
        }
      }
      im.session.finish(end);
      if (!im.rejected) {
        if (!im.confirmed) this.confirm(im, im.sawData[0] && im.sawData[1] ? 0.5 : 0.6);
        if (im.accounts !== null) for (const row of im.accounts.values()) this.opts.output.row('accounts', row);
      }
    }
    im.held = [];
    if (im.st === St.Detecting) {
      this.releaseProbeBufs(im.probeBuf);
      im.probeBuf = [EMPTY, EMPTY];
      im.probeLen = [0, 0];
    }
    im.carry = [null, null];
  }

  private lastTime(f: Flow, dir: Dir): Time {
    return [f.c[C_LAST_SEC + dir]!, f.c[C_LAST_NSEC + dir]!];
  }

  flowEndTime(f: Flow): Time {
    const a = this.lastTime(f, 0);
    const b = this.lastTime(f, 1);
    return a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]) ? a : b;
  }
}

/** Size of a new probe buffer, and of the spare ones kept; how many spare ones are kept at most. */
const PROBE_BUF = 1024;
const SPARE_BUFS = 256;

/** The candidate list of a flow before any probe ran on it, or after detection: none. */
const NO_PROBES: readonly ImProtocol[] = [];

/** The probes whose ports include `a` or `b` first (in registry order), then the others. */
function hintedFirst(probes: readonly ImProtocol[], a: number, b: number): readonly ImProtocol[] {
  const hinted = probes.filter((p) => p.ports.includes(a) || p.ports.includes(b));
  return hinted.length === 0 ? [...probes] : [...hinted, ...probes.filter((p) => !hinted.includes(p))];
}

/** No more bytes are given to the session: it asked (done), switched to TLS, or was rejected. */
function stop(im: FlowIm): void {
  im.st = St.Done;
  im.carry = [null, null];
}

/** The sink of one direction of a TCP flow: one object per direction (no closures per flow). */
class StreamSide implements StreamSink {
  constructor(
    private readonly d: Dispatcher,
    private readonly f: Flow,
    private readonly im: FlowIm,
    private readonly dir: Dir,
  ) {}

  onData(data: Uint8Array, offset: number, length: number, _streamOffset: number, tsSec: number, tsNsec: number): number {
    const im = this.im;
    if (im.st !== St.Done) this.d.data(this.f, im, this.dir, data, offset, length, tsSec, tsNsec, this.f.streams[this.dir]?.midstream ?? false);
    return length;
  }

  onGap(_streamOffset: number, length: number): void {
    if (this.im.st !== St.Done) this.d.gap(this.f, this.im, this.dir, length);
  }

  onEnd(): void {
    this.d.end(this.f, this.im, this.dir);
  }
}

/**
 * A session's view of its flow and of the dispatcher: one object per session, its methods on the prototype (a
 * closure per method per session cost more than the sessions' own set-up on short flows).
 */
class FlowContext implements SessionContext {
  readonly flowId: number;
  readonly transport: 'tcp' | 'udp';
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly serverPort: number;
  /** The tables besides the IM ones the protocol declares. */
  private readonly tables: readonly string[];

  constructor(
    private readonly d: Dispatcher,
    private readonly f: Flow,
    private readonly im: FlowIm,
    private readonly p: ImProtocol,
    readonly expected: unknown,
  ) {
    this.flowId = f.id;
    this.transport = f.proto === 6 ? 'tcp' : 'udp';
    this.clientIp = clientText(f);
    this.clientPort = f.cport;
    this.serverIp = serverText(f);
    this.serverPort = f.sport;
    this.tables = p.tables ?? NO_TABLES;
  }

  private app(): string | null {
    return this.im.verdict!.app;
  }

  confirm(c: number): void {
    this.d.confirm(this.im, c);
  }

  reject(reason: string): void {
    this.d.reject(this.f, this.im, reason);
  }

  encrypted(how: string, ts: Time): void {
    this.d.encrypted(this.f, this.im, how, ts);
  }

  setApp(a: string): void {
    if (this.im.verdict) this.im.verdict.app = a;
  }

  setKind(k: string): void {
    if (this.im.verdict) this.im.verdict.kind = k;
  }

  setServerName(n: string): void {
    if (this.im.verdict) this.im.verdict.serverName = n;
  }

  identify(a: string | null, kind: AppKind, method: Method, confidence: number): void {
    this.d.identify(this.im, a, kind, method, confidence);
  }

  hostName(name: string, source: HostSource): string | null {
    return this.d.hostName(this.im, name, source);
  }

  resolved(ts: Time, name: string, address: string, ttl: number): void {
    this.d.names?.add(this.clientIp, name, address, ttl, ts[0]);
  }

  row(table: string, r: ImRow): void {
    if (!this.tables.includes(table)) throw new Error(`${this.p.id} wrote a row to ${table}, which its descriptor does not declare in tables`);
    // The row is the session's to give away: flow_id is set on it rather than on a copy (a spread per row cost
    // more than the rest of the row's way to the store).
    r.flow_id = this.flowId;
    this.d.emit(this.im, table, r);
  }

  setProtocol(name: string): void {
    if (this.im.verdict) this.im.verdict.protocol = name;
  }

  done(): void {
    if (this.im.st === St.Active) stop(this.im);
  }

  runState<T>(key: string, make: () => T): T {
    const shared = this.d.shared;
    let v = shared.get(key) as T | undefined;
    if (v === undefined) {
      v = make();
      shared.set(key, v);
    }
    return v;
  }

  account(ts: Time, row: AccountRow): void {
    const im = this.im;
    if (im.rejected) return;
    const key = `${row.side ?? 0}\u0000${row.account}`;
    const accounts = (im.accounts ??= new Map());
    const had = accounts.get(key);
    if (had === undefined) {
      const side = row.side ?? 0;
      accounts.set(key, {
        ts,
        flow_id: this.flowId,
        app: this.app(),
        account: row.account,
        display_name: row.display_name ?? null,
        client_ip: side === 0 ? this.clientIp : this.serverIp,
        first_seen: ts,
        last_seen: ts,
        server: row.server ?? null,
        login: row.login ?? null,
        auth: row.auth ?? null,
        side: side === 0 ? 'client' : 'server',
      });
      return;
    }
    had.last_seen = ts;
    had.app = this.app();
    if (row.display_name != null) had.display_name = row.display_name;
    if (row.server != null) had.server = row.server;
    if (row.login != null) had.login = row.login;
    if (row.auth != null) had.auth = row.auth;
  }

  // Rows are object literals (a spread of a shared base is a slow generic copy per row).
  message(ts: Time, m: MessageRow): void {
    this.d.emit(this.im, 'messages', {
      ts,
      flow_id: this.flowId,
      app: this.app(),
      direction: dirText(m.dir),
      sender: m.sender,
      recipient: m.recipient,
      body: m.body,
      body_format: m.body_format ?? 'text',
      body_raw: m.body_raw ?? null,
      kind: m.kind ?? null,
      subject: m.subject ?? null,
      thread: m.thread ?? null,
    });
  }

  transfer(ts: Time, t: TransferRow): void {
    this.d.emit(this.im, 'transfers', {
      ts,
      flow_id: this.flowId,
      app: this.app(),
      sender: t.sender,
      recipient: t.recipient,
      filename: t.filename,
      size: t.size,
      bytes_seen: t.bytes_seen,
      md5: t.md5,
      sha256: t.sha256,
      complete: t.complete,
      path: t.path,
      method: t.method ?? null,
    });
  }

  contact(ts: Time, c: ContactRow): void {
    this.d.emit(this.im, 'contacts', { ts, flow_id: this.flowId, app: this.app(), account: c.account, contact: c.contact, group_name: c.group_name ?? null, state: c.state ?? null });
  }

  event(ts: Time, e: EventRow): void {
    this.d.emit(this.im, 'events', { ts, flow_id: this.flowId, app: this.app(), direction: dirText(e.dir), account: e.account, event: e.event, target: e.target ?? null, detail: e.detail ?? null });
  }

  anomaly(ts: Time, code: string, detail: string): void {
    this.d.emit(this.im, 'anomalies', { ts, flow_id: this.flowId, code, detail, file_offset: null });
  }

  expect(_ts: Time, spec: ExpectSpec): void {
    const t = this.d.table;
    if (t === null) return;
    t.expectations.expect({ proto: spec.transport, port: spec.port, server: spec.host, client: spec.from ?? null, ttl: spec.ttl, analyzer: spec.analyzer, context: spec.context }, t.clock.now);
  }

  openFile(ts: Time, meta: FileMeta): FileSink {
    return openFileSink(
      meta,
      this.flowId,
      this.d.extract,
      (at, row) => this.transfer(at, row),
      (message) => this.d.emit(this.im, 'anomalies', { ts, flow_id: this.flowId, code: 'im_extract_failed', detail: message, file_offset: null }),
      ts,
    );
  }
}

const NO_TABLES: readonly string[] = [];

function proto(im: FlowIm): string {
  return im.proto?.id ?? 'session';
}

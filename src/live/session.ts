/**
 * One `imtap live` session: the capture tool's pcap stream through the same reader, decoder, flow table and
 * analyzers as a file (`readCapture` on the pipe, `CaptureStats` with the IM `Dispatcher`), rows buffered and
 * flushed to DuckDB at intervals (flusher.ts), optionally the raw packets into rotating pcap files.
 *
 * Memory stays flat over days: the flow table ends idle flows (timeouts in packet time) and holds at most
 * `maxFlows`; the DNS name cache is bounded; the row buffer is bounded; the pcap writer holds one 64 KiB buffer.
 * Flow rows are written when flows end; messages and other analyzer rows as they come, at the next flush.
 */
import { readCapture, type CaptureSummary } from '../decoders/capture/reader.js';
import type { PacketRecord } from '../decoders/capture/record.js';
import { isDamage } from '../decoders/capture/issues.js';
import { DnsCache } from '../decoders/apps/dns-cache.js';
import type { AppRules } from '../decoders/apps/rules.js';
import { Dispatcher, flowVerdict, type ImRow } from '../decoders/im/dispatch.js';
import { defaultRegistry } from '../decoders/im/protocols.js';
import type { Flow } from '../flows/flow.js';
import type { FlowLimits } from '../flows/options.js';
import { CaptureStats } from '../stats/capture-stats.js';
import { flowAnomalyRows, flowRow } from '../store/flow-row.js';
import { CaptureStartError, findTool, startCaptureTool, type RunningTool, type ToolName } from './capture-tool.js';
import { createLiveCapture, dropLiveCapture, flushBatch, keepRow, RowBuffer, type CaptureFigures } from './flusher.js';
import { readIfCounters } from './if-stats.js';
import { PcapRotator, type RotateOptions } from './pcap-rotator.js';

export interface LiveOptions {
  iface: string;
  bpf: string | null;
  snaplen: number;
  db: string;
  sensor: string | null;
  tool: ToolName;
  /** Stop after this many seconds (null: until a signal). */
  durationS: number | null;
  flushEveryS: number;
  savePcap: Omit<RotateOptions, 'label' | 'snaplen'> | null;
  rules: AppRules;
  flowLimits?: Partial<FlowLimits>;
  maxBufferedRows?: number;
  /** How long a flush waits for readers to let go of the database before trying again at the next interval. */
  busyWaitMs?: number;
  /** A log line (stderr; the caller adds the prefix). */
  log(line: string): void;
  /** The TTY status line, redrawn in place; null when not on a terminal (then a log line per minute). */
  status: ((line: string) => void) | null;
  /** How often the log line is written when not on a TTY (default 60 s). */
  logEveryS?: number;
  env?: NodeJS.ProcessEnv;
}

export interface LiveCounters {
  packets: number;
  bytes: number;
  flows: number;
  imFlows: number;
  messages: number;
  rows: number;
  flushes: number;
  failedFlushes: number;
  dropped: number | null;
}

export interface LiveResult {
  captureId: number;
  counters: LiveCounters;
  /** Why the session ended: a signal name, "duration", or "tool-exit" (the capture tool stopped by itself). */
  endedBy: string;
  /** Set when the session ended badly: the tool died, or the last flush failed. */
  error: string | null;
  saved: string[];
}

/** What the caller uses to stop the session from outside (signals). */
export interface LiveControl {
  stop(reason: string): void;
  reopen(): void;
}

const nsText = (s: number, n: number) => (BigInt(s) * 1_000_000_000n + BigInt(n)).toString();

/**
 * Runs a live session to its end. `control` is filled in once the capture started, so that signal handlers can
 * stop it. Throws CaptureStartError when the tool cannot start (nothing is left in the database then).
 */
export async function runLive(o: LiveOptions, control: { current: LiveControl | null }): Promise<LiveResult> {
  const busyWaitMs = o.busyWaitMs ?? 2000;
  // A missing tool is said before the database is touched.
  if (findTool(o.tool, o.env) === null) {
    throw new CaptureStartError('tool_missing', `${o.tool} is not installed (or not on PATH): install it with "apt-get install ${o.tool === 'dumpcap' ? 'wireshark-common' : 'tcpdump'}"`);
  }
  const { captureId } = await createLiveCapture(o.db, o.iface, o.sensor, 30_000);

  const buffer = new RowBuffer(o.maxBufferedRows);
  const n: LiveCounters = { packets: 0, bytes: 0, flows: 0, imFlows: 0, messages: 0, rows: 0, flushes: 0, failedFlushes: 0, dropped: null };
  const imRow = (table: string, row: ImRow) => {
    if (table === 'messages') n.messages++;
    buffer.add(table, keepRow(row, captureId));
  };
  const onFlowEnd = (f: Flow) => {
    n.flows++;
    const v = flowVerdict(f);
    if (v !== null && v.app !== null) n.imFlows++;
    buffer.add('flows', flowRow(f, v, captureId));
    for (const r of flowAnomalyRows(f, captureId)) buffer.add('anomalies', r);
  };
  const dispatcher = new Dispatcher(defaultRegistry(), {
    output: { row: imRow },
    onFlowEnd,
    extract: { dir: null, prefix: `c${captureId}` },
    rules: o.rules,
    names: new DnsCache(),
  });
  const stats = new CaptureStats({ handler: dispatcher, ...(o.flowLimits ? { flowLimits: o.flowLimits } : {}) });
  const rotator = o.savePcap ? new PcapRotator({ ...o.savePcap, label: o.sensor ?? o.iface, snaplen: o.snaplen }) : null;

  let tool: RunningTool;
  try {
    tool = startCaptureTool({ tool: o.tool, iface: o.iface, snaplen: o.snaplen, bpf: o.bpf, ...(o.env ? { env: o.env } : {}) }, (line) => o.log(`${o.tool}: ${line}`));
    await Promise.race([tool.started, tool.exited.then(() => tool.started)]);
  } catch (e) {
    await dropLiveCapture(o.db, captureId, 30_000).catch(() => {});
    throw e;
  }
  o.log(`capturing on ${o.iface}${o.bpf ? ` (filter ${o.bpf})` : ''} into ${o.db} as capture ${captureId}; flushing every ${o.flushEveryS} s`);

  let endedBy: string | null = null;
  const stop = (reason: string) => {
    if (endedBy !== null) return;
    endedBy = reason;
    void tool.stop();
  };
  control.current = {
    stop,
    reopen() {
      const was = rotator?.reopen() ?? null;
      o.log(rotator ? `SIGHUP: closed ${was ?? 'no file yet'}; the next packet starts a new pcap file` : 'SIGHUP: no --save-pcap file to reopen');
    },
  };

  const onPacket = (rec: PacketRecord) => {
    stats.onPacket(rec);
    rotator?.write(rec);
  };

  // Flushing: one at a time; a flush that fails (the file busy for longer than busyWaitMs) puts its rows back.
  let flushing: Promise<void> | null = null;
  let lastError: string | null = null;
  const figures = (status: CaptureFigures['status'], error: string | null): CaptureFigures => {
    const has = stats.packets > 0;
    const ifc = readIfCounters(o.iface);
    return {
      packets: stats.packets,
      bytes: stats.bytes,
      firstNs: has ? nsText(stats.firstSec, stats.firstNsec) : null,
      lastNs: has ? nsText(stats.lastSec, stats.lastNsec) : null,
      status,
      error,
      stats: {
        iface: o.iface,
        received: tool.stats.received,
        droppedKernel: tool.stats.droppedKernel,
        droppedInterface: tool.stats.droppedInterface,
        ifRxPackets: ifc?.rxPackets ?? null,
        ifRxDropped: ifc?.rxDropped ?? null,
      },
    };
  };
  const flush = async (status: CaptureFigures['status'], error: string | null, waitMs: number): Promise<boolean> => {
    rotator?.flush();
    if (status === 'partial') await tool.requestStats(300);
    const batch = buffer.take();
    try {
      const r = await flushBatch(o.db, captureId, batch, figures(status, error), waitMs);
      n.rows += r.rows;
      n.flushes++;
      if (r.refused > 0) o.log(`flush: ${r.refused} rows refused by the schema checks and left out`);
      lastError = null;
      return true;
    } catch (e) {
      buffer.putBack(batch);
      n.failedFlushes++;
      lastError = e instanceof Error ? e.message : String(e);
      o.log(`flush failed, the ${buffer.size} rows are kept for the next one: ${lastError}`);
      return false;
    }
  };
  const periodic = () => {
    if (flushing || endedBy !== null) return;
    flushing = flush('partial', null, busyWaitMs).then(() => {
      flushing = null;
    });
  };

  // Status: on a TTY every second, else a log line per minute.
  const t0 = Date.now();
  let lastPackets = 0;
  let lastAt = t0;
  const line = () => {
    const now = Date.now();
    const pps = ((stats.packets - lastPackets) * 1000) / Math.max(1, now - lastAt);
    lastPackets = stats.packets;
    lastAt = now;
    const drops = tool.stats.droppedKernel;
    n.dropped = drops;
    const live = stats.flows?.live ?? 0;
    return `${Math.round(pps)} packets/s, ${stats.packets} packets, ${n.flows} flows ended (${live} open), ${n.imFlows} IM flows, ${n.messages} messages, ${drops ?? 0} dropped by kernel${buffer.overflowed ? `, ${buffer.overflowed} rows left out (buffer full)` : ''}`;
  };
  const timers: NodeJS.Timeout[] = [];
  timers.push(setInterval(periodic, o.flushEveryS * 1000));
  if (o.status) {
    const show = o.status;
    timers.push(setInterval(() => show(line()), 1000));
  } else {
    timers.push(setInterval(() => o.log(line()), (o.logEveryS ?? 60) * 1000));
  }
  if (rotator) timers.push(setInterval(() => rotator.tick(), 1000));
  if (o.durationS !== null) timers.push(setTimeout(() => stop('duration'), o.durationS * 1000));
  for (const t of timers) t.unref?.();

  // The read loop: ends when the tool's stdout closes (stopped, or died).
  let summary: CaptureSummary | null = null;
  let readError: string | null = null;
  try {
    summary = await readCapture('-', onPacket, { stdin: tool.child.stdout });
  } catch (e) {
    readError = `reading ${o.tool}'s output failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  for (const t of timers) clearInterval(t);
  await tool.stop();
  const exit = await tool.exited;
  stats.finish();
  rotator?.close();
  if (flushing) await flushing;
  n.bytes = stats.bytes;
  n.packets = stats.packets;
  n.dropped = tool.stats.droppedKernel;

  // Capture-level anomalies, as ingest writes them.
  const at: [number, number] = stats.packets > 0 ? [stats.lastSec, stats.lastNsec] : [Math.floor(Date.now() / 1000), 0];
  for (const [code, k] of Object.entries(stats.anomalies())) buffer.add('anomalies', { ts: at, capture_id: captureId, flow_id: null, code, detail: `${k} packet${k === 1 ? '' : 's'}` });
  for (const i of summary?.issues.list ?? []) buffer.add('anomalies', { ts: at, capture_id: captureId, flow_id: null, code: `capture_${i.code}`, detail: i.message, file_offset: i.offset });
  if (buffer.overflowed > 0) buffer.add('anomalies', { ts: at, capture_id: captureId, flow_id: null, code: 'live_buffer_overflow', detail: `${buffer.overflowed} rows left out: the database could not be written for too long` });

  let error = readError;
  if (error === null && endedBy === null) {
    endedBy = 'tool-exit';
    error = `${o.tool} stopped by itself (exit ${exit.code ?? exit.signal})${exit.stderr.length ? `: ${exit.stderr.slice(-2).join(' / ')}` : ''}`;
  }
  const damage = summary?.issues.list.filter((i) => isDamage(i.code)) ?? [];
  if (error === null && damage.length > 0) error = damage.map((d) => `${d.code} at byte ${d.offset}`).join('; ');
  const status = error === null ? 'complete' : 'partial';
  // The last flush waits longer for readers: nothing comes after it.
  const ok = await flush(status, error, 60_000);
  if (!ok) error = `the last flush failed, ${buffer.size} rows were not written: ${lastError}`;
  o.log(`stopped (${endedBy}): ${line()}; ${n.flushes} flushes, ${n.rows} rows written${rotator ? `, ${rotator.written.length} pcap files` : ''}`);
  control.current = null;
  return { captureId, counters: n, endedBy: endedBy ?? 'tool-exit', error, saved: rotator?.written ?? [] };
}

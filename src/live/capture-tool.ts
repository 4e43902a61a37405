/**
 * The capture tool behind `imtap live`: tcpdump (or dumpcap) started as a child process writing a pcap stream to
 * its standard output. The tool holds the capture privilege (CAP_NET_RAW); imtap itself runs as an ordinary user.
 * Measured for issue 9: a libpcap binding inside Node lost half of a burst that tcpdump captured in full, so the
 * packets are read from the tool's pipe, with the same reader as files.
 *
 * Its standard error is parsed for three things: the "listening on" line (the capture has started), the start-up
 * failures a person can fix (no such interface, no permission), and the statistics it prints on SIGUSR1 and at exit
 * ("N packets received by filter", "N packets dropped by kernel", "N packets dropped by interface").
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

export type ToolName = 'tcpdump' | 'dumpcap';

/** Why the capture could not start; each maps to its own exit code (src/cli/exit-codes.ts). */
export type StartFailure = 'tool_missing' | 'no_interface' | 'no_permission' | 'failed';

export class CaptureStartError extends Error {
  override name = 'CaptureStartError';
  constructor(
    readonly reason: StartFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface ToolStats {
  /** Packets that passed the filter (tcpdump "received by filter"; dumpcap: captured). */
  received: number | null;
  droppedKernel: number | null;
  droppedInterface: number | null;
}

export interface CaptureToolOptions {
  tool: ToolName;
  iface: string;
  snaplen: number;
  /** A BPF filter expression, passed to the tool as one argument (never through a shell). */
  bpf: string | null;
  /** Environment for finding the tool (PATH); process.env by default. */
  env?: NodeJS.ProcessEnv;
}

/** The tool's absolute path on PATH, or null. */
export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** Kernel capture buffer, MiB (tcpdump -B takes KiB, dumpcap -B MiB). */
export const CAPTURE_BUFFER_MIB = 64;

/** The arguments of the tool (no shell: the BPF expression is one argument). */
export function toolArgs(o: CaptureToolOptions): string[] {
  if (o.tool === 'dumpcap') {
    // -q: no packet counts on stderr while running; -P: pcap, not pcapng, like tcpdump (one reader path either way).
    const a = ['-q', '-P', '-i', o.iface, '-s', String(o.snaplen), '-B', String(CAPTURE_BUFFER_MIB), '-w', '-'];
    if (o.bpf) a.push('-f', o.bpf);
    return a;
  }
  // -U: write each packet as it comes (no 4 KiB buffering in the pipe); --immediate-mode: deliver packets at once
  // instead of when a kernel block fills (up to a second later on a quiet link); -n: no name resolution; -B: a kernel
  // buffer of CAPTURE_BUFFER_MIB instead of the default 2 MiB, which lost packets of a burst (a file transfer on
  // loopback) while imtap was busy (test/live/live-e2e.test.ts saw 0-30 kernel drops per run with the default).
  const a = ['-U', '-n', '--immediate-mode', '-B', String(CAPTURE_BUFFER_MIB * 1024), '-w', '-', '-i', o.iface, '-s', String(o.snaplen)];
  if (o.bpf) a.push(o.bpf);
  return a;
}

const STAT_LINE = /^(\d+) packets? (captured|received by filter|dropped by kernel|dropped by interface)/;

/** Parses tcpdump's statistics lines into `into`; returns true when the line was one. */
export function parseStatLine(line: string, into: ToolStats): boolean {
  // tcpdump's SIGUSR1 report is one line: "tcpdump: 3 packets captured, 4 packets received by filter, 0 packets dropped by kernel".
  let any = false;
  for (const part of line.split(', ')) {
    const m = STAT_LINE.exec(part.trim());
    if (!m) continue;
    any = true;
    const n = Number(m[1]);
    if (m[2] === 'received by filter') into.received = n;
    else if (m[2] === 'dropped by kernel') into.droppedKernel = n;
    else if (m[2] === 'dropped by interface') into.droppedInterface = n;
  }
  // dumpcap at exit: "Packets received/dropped on interface 'eth0': 10/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (100.0%)"
  const d = /Packets received\/dropped on interface .*: (\d+)\/(\d+)(?: \(pcap:(\d+)\/dumpcap:\d+\/flushed:\d+\/ps_ifdrop:(\d+)\))?/.exec(line);
  if (d) {
    into.received = Number(d[1]);
    into.droppedKernel = d[3] !== undefined ? Number(d[3]) : Number(d[2]);
    if (d[4] !== undefined) into.droppedInterface = Number(d[4]);
    any = true;
  }
  return any;
}

/** A start-up failure recognised in the tool's error output, as one sentence saying how to fix it; null otherwise. */
export function classifyFailure(tool: ToolName, toolPath: string, iface: string, text: string): CaptureStartError | null {
  if (/No such device|doesn't exist|no such interface|There is no device named|is not a valid interface|No such device exists/i.test(text)) {
    return new CaptureStartError('no_interface', `there is no network interface ${iface} here: list them with "ip link" (or "${tool} -D") and name one with --interface`);
  }
  if (/permission|Operation not permitted|not permitted|Insufficient privileges/i.test(text)) {
    return new CaptureStartError(
      'no_permission',
      `${tool} may not capture on ${iface}: give it the capture privilege once with "setcap cap_net_raw,cap_net_admin=eip ${toolPath}" (as root), or run imtap live as root`,
    );
  }
  return null;
}

export interface RunningTool {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly path: string;
  readonly stats: ToolStats;
  /** Resolves when the tool says it is capturing; rejects with a CaptureStartError when it exits first. */
  readonly started: Promise<void>;
  /** Resolves with the exit code (or signal name) and the last lines of its standard error. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string[] }>;
  /** Asks for fresh statistics (tcpdump: SIGUSR1); resolves when they arrived or after `timeoutMs`. */
  requestStats(timeoutMs?: number): Promise<void>;
  /** Stops the capture (SIGTERM; SIGKILL after `graceMs`); the tool writes what it has and prints its statistics. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts the tool; throws CaptureStartError('tool_missing') at once when it is not installed. */
export function startCaptureTool(o: CaptureToolOptions, log: (line: string) => void = () => {}): RunningTool {
  const env = o.env ?? process.env;
  const toolPath = findTool(o.tool, env);
  if (toolPath === null) {
    const pkg = o.tool === 'dumpcap' ? 'wireshark-common' : 'tcpdump';
    throw new CaptureStartError('tool_missing', `${o.tool} is not installed (or not on PATH): install it with "apt-get install ${pkg}"`);
  }
  const child = spawn(toolPath, toolArgs(o), { stdio: ['ignore', 'pipe', 'pipe'], env });
  const stats: ToolStats = { received: null, droppedKernel: null, droppedInterface: null };
  const lines: string[] = [];
  let statsWaiters: (() => void)[] = [];
  let resolveStarted!: () => void;
  let rejectStarted!: (e: Error) => void;
  let isStarted = false;
  const started = new Promise<void>((res, rej) => {
    resolveStarted = res;
    rejectStarted = rej;
  });
  started.catch(() => {});
  let partial = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl).trimEnd().replace(/^(?:tcpdump|dumpcap): /, '');
      partial = partial.slice(nl + 1);
      if (line === '') continue;
      lines.push(line);
      if (lines.length > 50) lines.shift();
      if (parseStatLine(line, stats)) {
        if (/dropped by kernel|Packets received\/dropped/.test(line)) {
          const w = statsWaiters;
          statsWaiters = [];
          for (const f of w) f();
        }
        continue;
      }
      if (!isStarted) {
        // Before the capture starts, lines are kept for the failure message rather than logged.
        if (/listening on|^Capturing on/i.test(line)) {
          isStarted = true;
          resolveStarted();
        }
        continue;
      }
      log(line);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string[] }>((resolve) => {
    let spawnError: Error | null = null;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      if (partial.trim() !== '') {
        lines.push(partial.trim());
        parseStatLine(partial.trim(), stats);
      }
      for (const f of statsWaiters) f();
      statsWaiters = [];
      if (!isStarted) {
        const text = lines.join('\n') + (spawnError ? `\n${spawnError.message}` : '');
        rejectStarted(
          classifyFailure(o.tool, toolPath, o.iface, text) ??
            new CaptureStartError('failed', `${o.tool} stopped before capturing (exit ${code ?? signal}): ${lines.slice(-3).join(' / ') || spawnError?.message || 'no message'}`),
        );
      }
      resolve({ code, signal, stderr: lines });
    });
  });
  let stopping: Promise<void> | null = null;
  return {
    child,
    path: toolPath,
    stats,
    started,
    exited,
    requestStats(timeoutMs = 500) {
      if (o.tool !== 'tcpdump' || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        statsWaiters.push(done);
        try {
          child.kill('SIGUSR1');
        } catch {
          done();
        }
      });
    },
    stop(graceMs = 3000) {
      if (stopping) return stopping;
      stopping = (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      })();
      return stopping;
    },
  };
}

/** Whether `tool` runs here (for choosing a default). */
export function toolAvailable(name: ToolName): boolean {
  const p = findTool(name);
  return p !== null && spawnSync(p, ['--version'], { stdio: 'ignore' }).status === 0;
}

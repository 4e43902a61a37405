/**
 * tcpdump on the loopback interface, writing a pcap of the e2e traffic. The capture counts as started only when
 * tcpdump says "listening on" (the socket is bound), and as finished only when tcpdump has exited after SIGINT,
 * so the file holds every packet and a complete last record.
 */
import fs from 'node:fs';
import { findCommand, startProcess, type Managed } from './proc.js';

export interface CaptureStats {
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
}

export interface Capture {
  file: string;
  /** SIGINT, waits for tcpdump to exit; returns its closing counts. Safe to call twice. */
  stop(): Promise<CaptureStats>;
}

/** A BPF filter for TCP on any of these ports (either direction). */
export function portFilter(ports: number[]): string {
  if (ports.length === 0) throw new Error('portFilter needs at least one port');
  return `tcp and (${ports.map((p) => `port ${p}`).join(' or ')})`;
}

function parseStats(text: string): CaptureStats {
  const n = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    captured: n(/(\d+) packets? captured/),
    receivedByFilter: n(/(\d+) packets? received by filter/),
    droppedByKernel: n(/(\d+) packets? dropped by kernel/),
  };
}

export async function startCapture(file: string, filter: string, opts: { iface?: string; timeoutMs?: number } = {}): Promise<Capture> {
  const args = [
    '-i', opts.iface ?? 'lo',
    // -U: each packet written as it comes; --immediate-mode: delivered without waiting for the kernel's block
    // timeout, so nothing is still in the ring when SIGINT arrives.
    '-U', '--immediate-mode',
    // 64 MiB kernel buffer (-B is in KiB): loopback packets are up to 64 KiB, and the default 2 MiB ring overflows
    // within a DCC burst (seen here: 114 of 320 packets dropped).
    '-B', '65536',
    '-n', '-s', '0',
    '-w', file,
  ];
  // As root, Debian's tcpdump drops to the "tcpdump" user before opening the output file, which then cannot be
  // created in a root-only temp dir.
  if (process.getuid?.() === 0) args.push('-Z', 'root');
  args.push(filter);
  const proc: Managed = startProcess(findCommand('tcpdump'), args);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const until = Date.now() + timeoutMs;
  while (!/listening on/.test(proc.output())) {
    if (proc.hasExited()) throw new Error(`tcpdump exited (${await proc.exited}) before capturing:\n${proc.output()}`);
    if (Date.now() > until) {
      await proc.stop('SIGKILL');
      throw new Error(`tcpdump did not say "listening on" within ${timeoutMs} ms:\n${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  let stats: Promise<CaptureStats> | undefined;
  return {
    file,
    stop: () => {
      stats ??= (async () => {
        const code = await proc.stop('SIGINT', 5000);
        const out = proc.output();
        if (code !== 0) throw new Error(`tcpdump ended with ${code}:\n${out}`);
        if (!fs.existsSync(file)) throw new Error(`tcpdump wrote no file ${file}:\n${out}`);
        return parseStats(out);
      })();
      return stats;
    },
  };
}

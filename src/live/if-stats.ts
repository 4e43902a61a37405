/**
 * The interface's own receive counters from /proc/net/dev (Linux), read at each flush: packets received and dropped
 * since the interface came up, as seen by this process's network namespace. Null where the file or the interface is
 * not there (another OS, a pseudo-interface such as "any").
 */
import fs from 'node:fs';

export interface IfCounters {
  rxPackets: number;
  /** drop + fifo + missed receive errors (columns 4, 5 of the receive half; "missed" is in rx_missed_errors, folded into drop by most drivers). */
  rxDropped: number;
}

/** Parses /proc/net/dev text for `iface`. */
export function parseNetDev(text: string, iface: string): IfCounters | null {
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() !== iface) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast
    if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return null;
    return { rxPackets: f[1]!, rxDropped: f[3]! + f[4]! };
  }
  return null;
}

export function readIfCounters(iface: string, file = '/proc/net/dev'): IfCounters | null {
  try {
    return parseNetDev(fs.readFileSync(file, 'utf8'), iface);
  } catch {
    return null;
  }
}

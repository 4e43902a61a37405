/**
 * `imtap inspect <capture>… [--json]`: like capinfos, plus what the decoders saw: packets per network and
 * transport protocol, tunnels, anomalies by name, and whether (and where) the file is damaged.
 */
import { Chalk } from 'chalk';
import { isDamage } from '../decoders/capture/issues.js';
import { linktypeDescription, linktypeName } from '../decoders/net/linktypes.js';
import { inspectCapture } from '../stats/capture-stats.js';
import { epochTime, isoTime, secondsBetween } from '../util/time.js';
import { EXIT, worst } from './exit-codes.js';
import type { Output } from './output.js';
import { terminalSafe } from '../util/escape.js';

export interface InspectArgs {
  captures: string[];
  json: boolean;
}

export interface InspectReport {
  file: string;
  format: string;
  compression: string | null;
  byteOrder: string;
  version: string;
  precision: string;
  snaplen: number;
  sections: number;
  interfaces: { index: number; linktype: number; name: string; snaplen: number; tsresol: number; section: number }[];
  linktypes: { linktype: number; name: string; description: string; packets: number }[];
  packets: number;
  /** Captured bytes (what is in the file; capinfos' "data size" when nothing was cut by a snap length). */
  bytes: number;
  /** Bytes on the wire (original lengths). */
  wireBytes: number;
  inputBytes: number;
  first: string | null;
  last: string | null;
  firstEpoch: string | null;
  lastEpoch: string | null;
  durationSeconds: number;
  timeOrdered: boolean;
  network: Record<string, number>;
  transport: Record<string, number>;
  encapsulation: Record<string, number>;
  anomalies: Record<string, number>;
  /** "complete" when read cleanly; "partial" when damage was found (every good packet was still read). */
  status: 'complete' | 'partial';
  truncated: boolean;
  issues: { code: string; offset: number; message: string }[];
  issueCounts: Record<string, number>;
}

export async function buildInspectReport(file: string, stdin?: NodeJS.ReadableStream): Promise<InspectReport> {
  const { summary, stats } = await inspectCapture(file, stdin ? { stdin } : {});
  const digits = summary.precision === 'microseconds' ? 6 : 9;
  const has = stats.packets > 0 && Number.isFinite(stats.firstSec);
  const truncated = summary.issues.list.some((i) => i.code === 'pcap_truncated_record' || i.code === 'pcapng_truncated_block' || i.code === 'gzip_error' || i.code === 'capture_too_short');
  return {
    file,
    format: summary.format,
    compression: summary.compression,
    byteOrder: summary.byteOrder,
    version: summary.version,
    precision: summary.precision,
    snaplen: summary.snaplen,
    sections: summary.sections,
    interfaces:
      summary.format === 'pcapng'
        ? summary.interfaces.map((i, index) => ({ index, linktype: i.linktype, name: i.name, snaplen: i.snaplen, tsresol: i.tsresol, section: i.section }))
        : summary.linktypes.map((lt, index) => ({ index, linktype: lt, name: '', snaplen: summary.snaplen, tsresol: summary.precision === 'nanoseconds' ? 9 : 6, section: 0 })),
    linktypes: [...stats.perLinktype].map(([linktype, packets]) => ({ linktype, name: linktypeName(linktype), description: linktypeDescription(linktype), packets })),
    packets: stats.packets,
    bytes: stats.bytes,
    wireBytes: stats.wireBytes,
    inputBytes: summary.inputBytes,
    first: has ? isoTime(stats.firstSec, stats.firstNsec, digits) : null,
    last: has ? isoTime(stats.lastSec, stats.lastNsec, digits) : null,
    firstEpoch: has ? epochTime(stats.firstSec, stats.firstNsec, digits) : null,
    lastEpoch: has ? epochTime(stats.lastSec, stats.lastNsec, digits) : null,
    durationSeconds: has ? secondsBetween(stats.lastSec, stats.lastNsec, stats.firstSec, stats.firstNsec) : 0,
    timeOrdered: stats.ordered,
    network: { ...stats.net },
    transport: { ...stats.transport },
    encapsulation: { ...stats.tunnels },
    anomalies: stats.anomalies(),
    status: summary.issues.damaged ? 'partial' : 'complete',
    truncated,
    issues: summary.issues.list.map((i) => ({ ...i })),
    issueCounts: summary.issues.countsObject(),
  };
}

export async function inspectCommand(args: InspectArgs, io: { stdout: Output; stderr: Output; stdin?: NodeJS.ReadableStream | undefined }): Promise<number> {
  let code: number = EXIT.OK;
  const reports: InspectReport[] = [];
  for (const file of args.captures) {
    try {
      const r = await buildInspectReport(file, io.stdin);
      reports.push(r);
      if (r.status === 'partial') {
        code = worst(code, EXIT.DAMAGED);
        for (const i of r.issues.filter((x) => isDamage(x.code as never))) io.stderr.write(`imtap: ${terminalSafe(file)}: ${i.code} at byte ${i.offset}: ${terminalSafe(i.message)}\n`);
      }
      if (!args.json) io.stdout.write(renderText(r, io.stdout) + '\n');
    } catch (e) {
      code = worst(code, EXIT.ERROR);
      io.stderr.write(`imtap: ${terminalSafe(e instanceof Error ? e.message : String(e))}\n`);
    }
  }
  if (args.json) io.stdout.write(JSON.stringify(reports, null, 2) + '\n');
  return code;
}

function renderText(r: InspectReport, out: Output): string {
  const c = new Chalk({ level: out.color ? 1 : 0 });
  const rows: [string, string][] = [];
  const add = (k: string, v: string | number) => rows.push([k, String(v)]);
  add('File', terminalSafe(r.file));
  add('Format', `${r.format}${r.compression ? ` (${r.compression}-compressed)` : ''}, ${r.byteOrder}-endian, version ${r.version}, ${r.precision}`);
  if (r.format === 'pcapng') add('Sections', r.sections);
  add('Link types', r.linktypes.map((l) => `${l.description} (${l.linktype}, ${l.name}): ${l.packets} packets`).join(', ') || r.interfaces.map((i) => `${linktypeDescription(i.linktype)} (${i.linktype})`).join(', '));
  if (r.format === 'pcapng') add('Interfaces', r.interfaces.length);
  add('Snap length', r.snaplen);
  add('Packets', r.packets);
  add('Bytes', `${r.bytes} captured, ${r.wireBytes} on the wire`);
  add('First packet', r.first ? `${r.first}  (${r.firstEpoch})` : '-');
  add('Last packet', r.last ? `${r.last}  (${r.lastEpoch})` : '-');
  add('Duration', `${r.durationSeconds.toFixed(r.precision === 'microseconds' ? 6 : 9)} s${r.timeOrdered ? '' : ' (packets not in time order)'}`);
  add('Network', nonZero(r.network));
  add('Transport', nonZero(r.transport));
  const enc = nonZero(r.encapsulation);
  if (enc !== 'none') add('Encapsulation', enc);
  add('Anomalies', nonZero(r.anomalies));
  add('Status', r.status === 'complete' ? c.green('complete') : c.red(`partial: ${nonZero(r.issueCounts)}`));
  const notices = Object.entries(r.issueCounts).filter(([k]) => !isDamage(k as never));
  if (r.status === 'complete' && notices.length > 0) add('Notices', notices.map(([k, v]) => `${k} ${v}`).join(', '));
  const w = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${c.bold((k + ':').padEnd(w))} ${v}`).join('\n') + '\n';
}

function nonZero(o: Record<string, number>): string {
  const parts = Object.entries(o)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

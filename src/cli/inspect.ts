/**
 * `imtap inspect <capture>… [--json]`: like capinfos, plus what the decoders saw: packets per network and
 * transport protocol, tunnels, anomalies by name, and whether (and where) the file is damaged.
 */
import { isDamage } from '../decoders/capture/issues.js';
import type { ReadOptions } from '../decoders/capture/reader.js';
import { linktypeDescription, linktypeName } from '../decoders/net/linktypes.js';
import { inspectCapture } from '../stats/capture-stats.js';
import { epochTime, isoTime, secondsBetween } from '../util/time.js';
import { EXIT, worst } from './exit-codes.js';
import type { Output } from './output.js';
import { terminalSafe } from '../util/escape.js';
import { flowJson, flowRecord, writeFlowJson, type FlowRecord } from '../flows/flow-record.js';
import type { Flow } from '../flows/flow.js';

export interface InspectArgs {
  captures: string[];
  json: boolean;
  /** List every TCP/UDP flow (decode + flow table + TCP reassembly). */
  flows?: boolean;
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
  /** With --flows: flow-table counters (created, ended, timedOut, evicted, closed, reused, notFlow, peakLive). */
  flowStats?: Record<string, number>;
}

export async function buildInspectReport(file: string, stdin?: NodeJS.ReadableStream, onFlow?: (f: Flow) => void, out?: Output): Promise<InspectReport> {
  const read: ReadOptions = {};
  if (stdin) read.stdin = stdin;
  if (out?.drained) read.beforeRead = out.drained;
  const { summary, stats } = await inspectCapture(file, read, onFlow ? { onFlow } : {});
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
    ...(stats.flows ? { flowStats: { ...stats.flows.stats } } : {}),
  };
}

export async function inspectCommand(args: InspectArgs, io: { stdout: Output; stderr: Output; stdin?: NodeJS.ReadableStream | undefined }): Promise<number> {
  let code: number = EXIT.OK;
  const out = io.stdout;
  // Flows are written as they end, so that memory does not grow with the capture. In JSON the array of flows comes
  // first in each capture's object, the summary fields after it.
  if (args.json) out.write('[');
  for (const [i, file] of args.captures.entries()) {
    let nflows = 0;
    if (args.json) out.write(`${i > 0 ? ',' : ''}\n{"file":${JSON.stringify(file)}${args.flows ? ',"flows":[' : ''}`);
    else if (args.flows) out.write(`Flows of ${terminalSafe(file)}:\n${FLOW_HEADER}\n`);
    const bytes = out.bytes;
    const write = (s: string) => out.write(s);
    const onFlow = !args.flows
      ? undefined
      : args.json && bytes
        ? (f: Flow) => {
            // Straight into the output buffer: making and encoding the strings took most of a listing's time.
            writeFlowJson(f, 9, nflows === 0, bytes, write);
            nflows++;
          }
        : (f: Flow) => {
            out.write(args.json ? `${nflows > 0 ? ',' : ''}\n${flowJson(f, 9)}` : flowLine(flowRecord(f, 9)) + '\n');
            nflows++;
          };
    try {
      const r = await buildInspectReport(file, io.stdin, onFlow, out);
      if (r.status === 'partial') {
        code = worst(code, EXIT.DAMAGED);
        for (const i of r.issues.filter((x) => isDamage(x.code as never))) io.stderr.write(`imtap: ${terminalSafe(file)}: ${i.code} at byte ${i.offset}: ${terminalSafe(i.message)}\n`);
      }
      if (args.json) {
        const { file: _f, ...rest } = r;
        out.write(`${args.flows ? ']' : ''},${JSON.stringify(rest).slice(1)}`);
      } else out.write((args.flows ? '\n' : '') + (await renderText(r, out)) + '\n');
    } catch (e) {
      code = worst(code, EXIT.ERROR);
      const msg = e instanceof Error ? e.message : String(e);
      io.stderr.write(`imtap: ${terminalSafe(msg)}\n`);
      if (args.json) out.write(`${args.flows ? ']' : ''},"error":${JSON.stringify(msg)}}`);
    }
  }
  if (args.json) out.write('\n]\n');
  return code;
}

const FLOW_HEADER = `${'id'.padStart(7)} ${'proto'.padEnd(5)} ${'client'.padStart(28)}    ${'server'.padEnd(28)} ${'orient'.padEnd(12)} ${'packets c>s/s>c'.padStart(17)} ${'bytes c>s/s>c'.padStart(23)} ${'seconds'.padStart(11)} ${'state'.padEnd(11)} ${'end'.padEnd(12)} gaps/anomalies`;

function flowLine(r: FlowRecord): string {
  const ep = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  const gaps = r.gaps[0]! + r.gaps[1]!;
  const anomalies = Object.entries(r.anomalies)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    String(r.id).padStart(7),
    r.transport.padEnd(5),
    ep(r.client, r.clientPort).padStart(28),
    '-> ' + ep(r.server, r.serverPort).padEnd(28),
    r.orientation.padEnd(12),
    `${r.packets[0]}/${r.packets[1]}`.padStart(17),
    `${r.bytes[0]}/${r.bytes[1]}`.padStart(23),
    r.durationSeconds.toFixed(3).padStart(11),
    r.state.padEnd(11),
    r.endReason.padEnd(12),
    gaps > 0 || anomalies ? `${gaps}${anomalies ? ' ' + anomalies : ''}` : '-',
  ].join(' ');
}

async function renderText(r: InspectReport, out: Output): Promise<string> {
  const { Chalk } = await import('chalk'); // only the text form needs it
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

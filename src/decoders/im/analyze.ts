/**
 * Run the IM analyzers over a capture and keep the rows in memory: the pipeline `ingest` runs, without a database.
 * For tests (golden rows, re-segmentation) and for tools that want the rows as objects.
 */
import type { ReadOptions } from '../capture/reader.js';
import { inspectCapture } from '../../stats/capture-stats.js';
import { clientText, serverText, type Flow } from '../../flows/flow.js';
import type { FlowLimits } from '../../flows/options.js';
import { Dispatcher, flowVerdict, type DispatchLimits, type ImRow, type Verdict } from './dispatch.js';
import type { AppRules } from '../apps/rules.js';
import type { NameCache } from '../apps/dns-cache.js';
import { defaultRegistry } from './protocols.js';
import type { Registry } from './registry.js';

export interface FlowVerdict extends Verdict {
  flow_id: number;
  client_ip: string;
  client_port: number;
  server_ip: string;
  server_port: number;
  transport: 'tcp' | 'udp';
  anomalies: Record<string, number>;
}

export interface AnalyzeResult {
  /** Rows per table (accounts, messages, transfers, contacts, events, anomalies). */
  rows: Record<string, ImRow[]>;
  /** One entry per IM flow (an app named), in the order the flows ended. */
  flows: FlowVerdict[];
  /** One entry per other flow: its protocol (a carrier such as tls or dns, unknown, none), no app. */
  others: FlowVerdict[];
  /** Every flow that ended, with its verdict or null. */
  allFlows: number;
  dispatch: Dispatcher['stats'];
}

export interface AnalyzeOptions {
  read?: ReadOptions;
  flowLimits?: Partial<FlowLimits>;
  dispatchLimits?: Partial<DispatchLimits>;
  extractDir?: string | null;
  registry?: Registry;
  rules?: AppRules;
  names?: NameCache | null;
}

export async function analyzeCapture(path: string, opts: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  const rows: Record<string, ImRow[]> = { accounts: [], messages: [], transfers: [], contacts: [], events: [], anomalies: [], tls: [], dns: [], http: [] };
  const flows: FlowVerdict[] = [];
  const others: FlowVerdict[] = [];
  let allFlows = 0;
  const onFlowEnd = (f: Flow) => {
    allFlows++;
    const v = flowVerdict(f);
    if (v === null) return;
    (v.app !== null ? flows : others).push({
      ...v,
      flow_id: f.id,
      client_ip: clientText(f),
      client_port: f.cport,
      server_ip: serverText(f),
      server_port: f.sport,
      transport: f.proto === 6 ? 'tcp' : 'udp',
      anomalies: f.anomalies ? Object.fromEntries(f.anomalies) : {},
    });
  };
  const d = new Dispatcher(opts.registry ?? defaultRegistry(), {
    output: { row: (t, r) => (rows[t] ??= []).push(r) },
    onFlowEnd,
    ...(opts.dispatchLimits ? { limits: opts.dispatchLimits } : {}),
    extract: { dir: opts.extractDir ?? null, prefix: 'c0' },
    ...(opts.rules ? { rules: opts.rules } : {}),
    ...(opts.names !== undefined ? { names: opts.names } : {}),
  });
  await inspectCapture(path, opts.read ?? {}, { handler: d, ...(opts.flowLimits ? { flowLimits: opts.flowLimits } : {}) });
  return { rows, flows, others, allFlows, dispatch: d.stats };
}

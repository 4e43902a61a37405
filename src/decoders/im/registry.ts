/**
 * The IM protocol registry: the list of protocol descriptors the dispatcher runs, validated once at start-up so that
 * a mistake in a descriptor (a duplicate id, an anomaly code without its protocol's prefix, a limit that is not a
 * positive number) stops the program with the descriptor named instead of misclassifying traffic later.
 *
 * Adding a protocol: write its folder (`src/decoders/im/<proto>/`), export its descriptor, add it to `protocols.ts`.
 */
import type { ImProtocol } from './types.js';

/** Anomaly codes the dispatcher itself reports (not a protocol's). */
export const DISPATCH_ANOMALIES: Readonly<Record<string, string>> = {
  im_pending_limit: 'A session left more unconsumed bytes than maxPendingBytes: they were dropped and the session resynchronised after them.',
  im_extract_failed: 'A carved file could not be written to the extraction directory (the transfer is still hashed and recorded).',
};

export class Registry {
  readonly protocols: readonly ImProtocol[];
  private readonly byId = new Map<string, ImProtocol>();
  /** Protocols with a probe, per transport. */
  readonly tcpProbes: readonly ImProtocol[];
  readonly udpProbes: readonly ImProtocol[];

  constructor(protocols: readonly ImProtocol[]) {
    const problems: string[] = [];
    for (const p of protocols) {
      if (!/^[a-z][a-z0-9-]*$/.test(p.id)) problems.push(`protocol id ${JSON.stringify(p.id)}: must be lower-case letters, digits and '-'`);
      if (this.byId.has(p.id)) problems.push(`protocol id ${p.id} is declared twice`);
      this.byId.set(p.id, p);
      const prefix = `${p.id.split('-')[0]}_`;
      for (const code of Object.keys(p.anomalies)) {
        if (!code.startsWith(prefix) || !/^[a-z0-9_]+$/.test(code)) problems.push(`${p.id}: anomaly code ${code} must be snake_case starting with ${prefix}`);
        if (code in DISPATCH_ANOMALIES) problems.push(`${p.id}: anomaly code ${code} is the dispatcher's`);
      }
      for (const [name, v] of Object.entries(p.limits)) {
        if (typeof v !== 'number' || !(v > 0)) problems.push(`${p.id}: limit ${name} = ${String(v)} must be a positive number`);
      }
      for (const port of p.ports) if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`${p.id}: port ${port} out of range`);
    }
    if (problems.length > 0) throw new Error(`invalid IM protocol registry: ${problems.join('; ')}`);
    this.protocols = protocols;
    this.tcpProbes = protocols.filter((p) => p.probe !== null && p.transport !== 'udp');
    this.udpProbes = protocols.filter((p) => p.probe !== null && p.transport !== 'tcp');
  }

  get(id: string): ImProtocol | undefined {
    return this.byId.get(id);
  }

  /** Whether `code` is an anomaly some protocol (or the dispatcher) declares. */
  declares(code: string): boolean {
    if (code in DISPATCH_ANOMALIES) return true;
    return this.protocols.some((p) => code in p.anomalies);
  }
}

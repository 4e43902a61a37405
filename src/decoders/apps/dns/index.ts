/**
 * DNS (RFC 1035; over TCP RFC 7766; mDNS RFC 6762; LLMNR RFC 4795): a carrier protocol (`app: null`). Its flows name
 * no app; its answers fill the name cache (`ctx.resolved`) that later flows from the same client inherit a server
 * name from, and its `dns` rows say who asked what. See README.md in this folder.
 */
import type { ImProtocol } from '../../im/types.js';
import { probeDns } from './detect.js';
import { DNS_ANOMALIES, DNS_LIMITS } from './limits.js';
import { DnsSession } from './session.js';

export const dns: ImProtocol = {
  id: 'dns',
  name: 'Domain Name System (DNS, mDNS, LLMNR)',
  transport: 'both',
  app: null,
  tables: ['dns'],
  // Hints only: 53 (DNS), 5353 (mDNS), 5355 (LLMNR). The probe decides.
  ports: [53, 5353, 5355],
  probe: probeDns,
  createSession: (ctx) => new DnsSession(ctx, DNS_LIMITS),
  limits: DNS_LIMITS,
  anomalies: DNS_ANOMALIES,
};

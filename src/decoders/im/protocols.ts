/**
 * The IM protocols imtap runs, in the order their probes are asked (protocols whose usual port a flow uses are asked
 * first). Adding a protocol: one line here.
 */
import { Registry } from './registry.js';
import { irc, ircDcc } from './irc/index.js';
import { xmpp, xmppS5b } from './xmpp/index.js';
import { oscar, oscarOft } from './oscar/index.js';
import { msnp, msnpFtp } from './msnp/index.js';
import { ymsg } from './ymsg/index.js';
import { gadugadu } from './gadugadu/index.js';
import { sip } from './sip/index.js';
import { msrp } from './msrp/index.js';
import type { ImProtocol } from './types.js';
import { APP_PROTOCOLS } from '../apps/index.js';

/** The IM protocols first, then the carriers and app signatures of `src/decoders/apps/`. */
export const PROTOCOLS: readonly ImProtocol[] = [irc, ircDcc, xmpp, xmppS5b, oscar, oscarOft, msnp, msnpFtp, ymsg, gadugadu, sip, msrp, ...APP_PROTOCOLS];

let registry: Registry | null = null;

/** The validated registry of PROTOCOLS (validated once, on first use). */
export function defaultRegistry(): Registry {
  registry ??= new Registry(PROTOCOLS);
  return registry;
}

/**
 * The evidence analyzers for encrypted and modern apps (carrier protocols: tls, quic, dns, http, stun, and apps'
 * own payload signatures). They are IM protocol descriptors like the others (`src/decoders/im/types.ts`) with
 * `app: null`: a flow they recognise names an app only when the evidence does. They come after the IM protocols
 * in the probe order, so clear-text IM on any port is recognised first.
 *
 * Adding one: its folder under `src/decoders/apps/`, its import and its entry below (one line each).
 */
import type { ImProtocol } from '../im/types.js';
import { tls } from './tls/index.js';
import { dns } from './dns/index.js';
import { http } from './http/index.js';
import { stun } from './stun/index.js';
import { SIGNATURE_PROTOCOLS } from './signatures/index.js';
import { quic } from './quic/index.js';
import { rtp } from './rtp/index.js';

export const APP_PROTOCOLS: readonly ImProtocol[] = [tls, dns, http, quic, stun, ...SIGNATURE_PROTOCOLS, rtp];

/**
 * IRC: the client-server protocol (RFC 1459, RFC 2812, IRCv3 message-tags, CAP, SASL, STARTTLS) and DCC side
 * connections (CTCP DCC SEND/CHAT). Two descriptors: `irc` detects by payload and analyses the client-server flow;
 * `irc-dcc` has no probe and takes the connections an `irc` flow announced. See README.md in this folder.
 */
import type { ImProtocol } from '../types.js';
import { DCC_ANALYZER } from './chat.js';
import { createDccSession } from './dcc-session.js';
import { probeIrc } from './detect.js';
import { DCC_ANOMALIES, DCC_LIMITS, IRC_ANOMALIES, IRC_LIMITS } from './limits.js';
import { createIrcSession } from './session.js';

export const irc: ImProtocol = {
  id: 'irc',
  name: 'Internet Relay Chat',
  transport: 'tcp',
  // Hints only (the probe decides): 6660-6669 (IANA's ircu range and around it), 7000 and 8000 are common too.
  ports: [6660, 6661, 6662, 6663, 6664, 6665, 6666, 6667, 6668, 6669, 7000, 8000],
  probe: probeIrc,
  createSession: (ctx) => createIrcSession(ctx),
  limits: IRC_LIMITS,
  anomalies: IRC_ANOMALIES,
};

export const ircDcc: ImProtocol = {
  id: DCC_ANALYZER,
  name: 'IRC DCC (file transfer and chat)',
  transport: 'tcp',
  app: 'irc',
  ports: [],
  probe: null,
  createSession: (ctx) => createDccSession(ctx),
  limits: DCC_LIMITS,
  anomalies: DCC_ANOMALIES,
};

export type { DccContext } from './chat.js';

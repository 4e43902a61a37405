/**
 * The apps' own payload signatures (README.md): each a small IM protocol descriptor with its app set, confirmed only
 * on the signature's evidence. Order matters for the probes: strong signatures first, the weak Skype UDP one last.
 */
import type { ImProtocol } from '../../im/types.js';
import { dingtalk } from './dingtalk.js';
import { discord } from './discord.js';
import { imo } from './imo.js';
import { mumble } from './mumble.js';
import { oicq } from './oicq.js';
import { skypeUdp } from './skype-udp.js';
import { teamspeak } from './teamspeak.js';
import { whatsapp } from './whatsapp.js';

export const SIGNATURE_PROTOCOLS: readonly ImProtocol[] = [whatsapp, dingtalk, teamspeak, oicq, mumble, discord, imo, skypeUdp];

export { dingtalk, discord, imo, mumble, oicq, skypeUdp, teamspeak, whatsapp };

/**
 * Which call service a STUN message belongs to, from its attributes and realm. Facts from nDPI's `stun.c`
 * (ntop/nDPI, LGPL-3.0; facts only), the MS-TURN and MS-ICE2 specifications (Microsoft's vendor attributes) and the
 * captures in `../shared/pcaps/apps/`. Each rule names its source below.
 */

export interface StunApp {
  app: string;
  /** How sure: 0.85 for an attribute or realm only that service uses; less for the weaker rules. */
  confidence: number;
  /** What gave it away, for the README and the tests. */
  why: string;
}

const WHATSAPP = (why: string): StunApp => ({ app: 'whatsapp', confidence: 0.85, why });
const SKYPE = (why: string): StunApp => ({ app: 'skype', confidence: 0.85, why });

/**
 * An attribute type that names an app by itself, or null.
 * - 0x4000-0x4004, 0x4007: WhatsApp's relay attributes (its Allocate requests carry 0x4000, the answers 0x4002).
 * - MS-TURN / MS-ICE2 (Skype, Skype for Business, Teams): 0x8054 CANDIDATE-IDENTIFIER, 0x8055 MS-SERVICE-QUALITY,
 *   0x8070 MS-IMPLEMENTATION-VERSION, 0x8095 MS-MULTIPLEXED-TURN-SESSION-ID, 0x8006 MS-VERSION, 0x8036, 0x24DF,
 *   0x3802 (seen on Skype calls, nDPI).
 * - 0xFF03: Google's (Hangouts, Duo, Meet) own attribute (nDPI).
 * - 0x0101, 0x0103: Zoom (nDPI).
 */
export function appOfAttribute(type: number): StunApp | null {
  switch (type) {
    case 0x4000:
    case 0x4001:
    case 0x4002:
    case 0x4003:
    case 0x4004:
    case 0x4007:
      return WHATSAPP(`attribute 0x${type.toString(16)}`);
    case 0x8054:
    case 0x8055:
    case 0x8070:
    case 0x8095:
    case 0x8006:
    case 0x8036:
    case 0x24df:
    case 0x3802:
      return SKYPE(`MS-ICE/MS-TURN attribute 0x${type.toString(16)}`);
    case 0xff03:
      return { app: 'google-meet', confidence: 0.85, why: 'attribute 0xff03' };
    case 0x0101:
    case 0x0103:
      return { app: 'zoom', confidence: 0.85, why: `attribute 0x${type.toString(16).padStart(4, '0')}` };
    default:
      return null;
  }
}

/** A WhatsApp message type (0x0800-0x0805 with the cookie). */
export function appOfType(type: number): StunApp | null {
  return type >= 0x0800 && type <= 0x0805 && type !== 0x0803 ? WHATSAPP(`message type 0x${type.toString(16)}`) : null;
}

/**
 * The app a TURN realm names (RFC 8489 REALM: the server's authentication domain), lower-cased: the operators' own
 * domains. A realm with '?' is junk some stacks send (nDPI ignores those too).
 */
export function appOfRealm(realm: string): StunApp | null {
  const r = realm.toLowerCase();
  if (r.includes('?')) return null;
  const why = `realm ${r}`;
  if (r.includes('signal.org') || r.includes('whispersystems.org')) return { app: 'signal', confidence: 0.85, why };
  if (r.includes('google.com')) return { app: 'google-meet', confidence: 0.85, why };
  if (r.includes('facebook') || r.includes('fbcdn')) return { app: 'messenger', confidence: 0.85, why };
  if (r.includes('whatsapp')) return WHATSAPP(why);
  if (r.includes('telegram')) return { app: 'telegram', confidence: 0.85, why };
  if (r.includes('viber')) return { app: 'viber', confidence: 0.85, why };
  if (r.includes('zoom.us')) return { app: 'zoom', confidence: 0.85, why };
  if (r.includes('discord')) return { app: 'discord', confidence: 0.85, why };
  return null;
}

/** Google's STUN/TURN ports (support.google.com/a/answer/1279090): 19302-19309. */
export function googlePort(port: number): boolean {
  return port >= 19302 && port <= 19309;
}

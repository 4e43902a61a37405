/**
 * The app rules: host-name patterns and IP ranges that name an app (WhatsApp, Signal, Telegram, Teams…), loaded
 * from the data files in `data/apps/` (each rule with its source and date) and from the user's `--rules FILE`.
 *
 * CONTRACT (the dispatcher relies on this interface; the implementation is the rules work's):
 * - `matchHost(name)`: the best rule for a host name (SNI, certificate name, HTTP Host, a name resolved by DNS), or
 *   null. A match with `app` null is a *site* rule: the name is the app's web site, not use of the app
 *   (`www.whatsapp.com`), and no app is set.
 * - `matchAddress(ip)`: the rule whose range holds the address (text, dotted IPv4 or RFC 5952 IPv6), or null. Range
 *   rules have low confidence: a last resort.
 */
import type { AppKind } from '../im/types.js';

export interface AppMatch {
  /** The app named, or null for a site rule (a visit to the app's web site is not use of the app). */
  app: string | null;
  kind: AppKind;
  confidence: number;
  /** Where the rule comes from: data file and line, for the note in `flows` (never shown as a verdict on its own). */
  rule: string;
}

export interface AppRules {
  matchHost(name: string): AppMatch | null;
  matchAddress(ip: string): AppMatch | null;
}

/** Rules that match nothing (analysis without app rules). */
export const NO_RULES: AppRules = {
  matchHost: () => null,
  matchAddress: () => null,
};

/**
 * The built-in rules (`data/apps/`) and the user's rule files, in that order of precedence reversed: a user rule wins
 * over a built-in one for the same name or range. Throws, naming the file and line, on a rule it cannot read.
 * (Placeholder until the rules work lands: no rules.)
 */
export function loadAppRules(_userFiles: readonly string[] = []): AppRules {
  return NO_RULES;
}

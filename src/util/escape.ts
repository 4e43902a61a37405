/**
 * Output is hostile data: anything that came from a capture (or a file name) is escaped for where it goes.
 */

// C0 controls, DEL, C1 controls, and the Unicode bidirectional overrides that can reorder what a terminal shows.
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Text for a terminal: control characters (escape sequences included) become visible \xNN / \uNNNN escapes. */
export function terminalSafe(s: string): string {
  return s.replace(TERMINAL_UNSAFE, (ch) => {
    const n = ch.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/**
 * A CSV cell that a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection advice).
 * Other values pass through unchanged.
 */
export function csvSafe<T>(v: T): T | string {
  return typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

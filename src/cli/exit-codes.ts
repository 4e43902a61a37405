/**
 * Exit codes of every imtap command (documented in docs/cli.md). Cron jobs and scripts rely on them: never reuse a
 * number for another meaning.
 */
export const EXIT = {
  /** Everything asked for was done, and every input was read cleanly. */
  OK: 0,
  /** A fatal error: an input could not be opened or is not a capture, an output could not be written. */
  ERROR: 1,
  /** The command line is wrong (unknown command or option, missing argument). */
  USAGE: 2,
  /** An input was damaged (truncated or corrupt): every good record was processed, the damage is reported. */
  DAMAGED: 3,
  /** With `--fail-on-alert`: the command did its work and found watchlist hits (ingest: in this run; report: in
   *  its period). Outranks DAMAGED (the damage is still on standard error), not ERROR. */
  ALERTS: 4,
  /** `imtap verify`: the export is not intact (a file changed, missing or extra, a record altered, the chain or the
   *  manifest broken); each problem is printed. */
  VERIFY_FAILED: 5,
  /** `imtap live`: the capture tool (tcpdump, or dumpcap with --tool dumpcap) is not installed. */
  NO_CAPTURE_TOOL: 6,
  /** `imtap live`: the interface named with --interface does not exist. */
  NO_INTERFACE: 7,
  /** `imtap live`: the capture tool may not capture (it lacks CAP_NET_RAW; imtap says how to grant it). */
  NO_CAPTURE_PERMISSION: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The worse of two outcomes: an error outranks damage, damage outranks success. */
export function worst(a: number, b: number): number {
  const rank = (c: number) => (c === EXIT.ERROR ? 3 : c === EXIT.USAGE ? 4 : c === EXIT.DAMAGED ? 2 : c === EXIT.OK ? 0 : 1);
  return rank(a) >= rank(b) ? a : b;
}

/**
 * `imtap live --interface IF …`: a long-running sensor on a SPAN port or tap (docs/live.md). Parses and checks the
 * options, installs the signal handlers (SIGINT/SIGTERM: stop, drain, flush, exit 0; SIGHUP: start a new saved-pcap
 * file), runs the session (src/live/session.ts) and maps the outcome to an exit code.
 */
import { terminalSafe } from '../util/escape.js';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';

export interface LiveArgs {
  iface: string;
  bpf: string | null;
  snaplen: number;
  db: string;
  sensor: string | null;
  duration: string | null;
  flushEvery: string;
  savePcap: string | null;
  rotate: string | null;
  keep: number | null;
  rules: string[];
  tool: 'tcpdump' | 'dumpcap';
}

export async function liveCommand(args: LiveArgs, io: { stdout: Output; stderr: Output }): Promise<number> {
  const say = (s: string) => {
    io.stderr.write(`imtap: ${terminalSafe(s)}\n`);
    io.stderr.flush?.();
  };
  const { parseDuration, parseRotate } = await import('../live/units.js');
  let durationS: number | null = null;
  let flushEveryS: number;
  let rotate: { maxBytes: number | null; maxSeconds: number | null } = { maxBytes: null, maxSeconds: null };
  try {
    durationS = args.duration === null ? null : parseDuration(args.duration, '--duration');
    flushEveryS = parseDuration(args.flushEvery, '--flush-every');
    if (args.rotate !== null) rotate = parseRotate(args.rotate);
    if (!Number.isInteger(args.snaplen) || args.snaplen < 64 || args.snaplen > 262144) throw new Error(`--snaplen ${args.snaplen}: must be a whole number from 64 to 262144`);
    if (args.keep !== null && (!Number.isInteger(args.keep) || args.keep < 1)) throw new Error(`--keep ${args.keep}: must be a whole number of files, 1 or more`);
    if (args.savePcap === null && (args.rotate !== null || args.keep !== null)) throw new Error('--rotate and --keep need --save-pcap DIR');
    if (/[\0\n]/.test(args.iface) || args.iface === '' || args.iface.startsWith('-')) throw new Error(`--interface ${args.iface}: not an interface name`);
  } catch (e) {
    say(`${(e as Error).message} (run imtap live --help for usage)`);
    return EXIT.USAGE;
  }
  // App rules are read before anything starts: a bad rule file stops the run with nothing done.
  const { loadAppRules } = await import('../decoders/apps/rules.js');
  let rules;
  try {
    rules = loadAppRules(args.rules);
  } catch (e) {
    say(e instanceof Error ? e.message : String(e));
    return EXIT.ERROR;
  }
  const { runLive } = await import('../live/session.js');
  const { CaptureStartError } = await import('../live/capture-tool.js');
  const { storeErrorMessage } = await import('./ingest.js');

  const tty = io.stderr.isTTY;
  let statusShown = false;
  const clearStatus = () => {
    if (statusShown) io.stderr.write('\r\x1b[K');
    statusShown = false;
  };
  const control: { current: { stop(reason: string): void; reopen(): void } | null } = { current: null };
  const pending: string[] = [];
  const onStop = (sig: NodeJS.Signals) => {
    if (control.current) control.current.stop(sig);
    else pending.push(sig);
  };
  const onHup = () => control.current?.reopen();
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', onHup);
  // A signal before the capture started stops it as soon as it starts.
  const poll = setInterval(() => {
    if (control.current && pending.length > 0) control.current.stop(pending.shift()!);
  }, 50);
  poll.unref();
  try {
    const r = await runLive(
      {
        iface: args.iface,
        bpf: args.bpf,
        snaplen: args.snaplen,
        db: args.db,
        sensor: args.sensor,
        tool: args.tool,
        durationS,
        flushEveryS,
        savePcap: args.savePcap === null ? null : { dir: args.savePcap, ...rotate, keep: args.keep },
        rules,
        log: (line) => {
          clearStatus();
          io.stderr.write(`imtap live: ${terminalSafe(line)}\n`);
          io.stderr.flush?.();
        },
        status: tty
          ? (line) => {
              io.stderr.write(`\r\x1b[K${terminalSafe(line).slice(0, Math.max(20, io.stderr.columns - 1))}`);
              statusShown = true;
            }
          : null,
      },
      control,
    );
    clearStatus();
    if (r.error !== null) {
      say(`live capture ${r.captureId} ended with an error: ${r.error}`);
      return EXIT.ERROR;
    }
    return EXIT.OK;
  } catch (e) {
    clearStatus();
    if (e instanceof CaptureStartError) {
      say(e.message);
      return e.reason === 'tool_missing' ? EXIT.NO_CAPTURE_TOOL : e.reason === 'no_interface' ? EXIT.NO_INTERFACE : e.reason === 'no_permission' ? EXIT.NO_CAPTURE_PERMISSION : EXIT.ERROR;
    }
    say(storeErrorMessage(args.db, e));
    return EXIT.ERROR;
  } finally {
    clearInterval(poll);
    process.off('SIGINT', onStop);
    process.off('SIGTERM', onStop);
    process.off('SIGHUP', onHup);
  }
}

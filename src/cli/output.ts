/** Where a command writes: a stream, whether it is a terminal, and whether colours are wanted. */
export interface Output {
  write(s: string): void;
  /** Write out anything buffered (called by main before it returns). */
  flush?(): void;
  /**
   * Resolves when the stream has taken what was written (a slow reader on a pipe: `imtap … | gzip`), or returns
   * null when it already has. Long outputs wait on it between reads, so memory does not fill with queued text.
   */
  drained?(): Promise<void> | null;
  /**
   * Direct access to the output buffer, for writers of long ASCII listings (the flow listing writes JSON bytes here
   * instead of making strings). Absent on a terminal, which gets each write at once: write text then.
   */
  readonly bytes?: ByteSink;
  readonly isTTY: boolean;
  readonly columns: number;
  /** Colours on a terminal unless NO_COLOR is set; FORCE_COLOR (non-empty, not "0") forces them anywhere. */
  readonly color: boolean;
}

/**
 * The buffer of an Output and the first free byte in it. Both change with `reserve` and with the Output's `write`, so
 * a writer reads them after either and stores `pos` back before either.
 */
export interface ByteSink {
  buf: Buffer;
  pos: number;
  /** Make room for at least `n` (at most RESERVE_MAX) more bytes, writing out what is buffered if need be. */
  reserve(n: number): void;
}

/** The most a ByteSink's reserve guarantees; write longer text with the Output's write. */
export const RESERVE_MAX = 64 << 10;

export function wantColor(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY;
}

export function processOutput(stream: NodeJS.WriteStream): Output {
  // A reader that goes away (imtap … | head) is not an error worth a stack trace.
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const isTTY = Boolean(stream.isTTY);
  // Small writes are encoded straight into a 1 MiB buffer and written in pieces: a flow listing is tens of thousands
  // of lines, and one write call (or one long concatenated string) each costs more than making them. The buffer is
  // reused when the stream took the bytes at once (files, and pipes with room); a stream that is backed up keeps the
  // buffer it was given, so then the next piece gets a fresh one. A terminal gets each write at once.
  const SIZE = 1 << 20;
  let full = false;
  const flush = () => {
    const used = sink.pos;
    if (used === 0) return;
    if (!stream.write(sink.buf.subarray(0, used))) full = true;
    if (stream.writableLength > 0) sink.buf = Buffer.allocUnsafe(SIZE);
    sink.pos = 0;
  };
  const sink: ByteSink = {
    buf: Buffer.allocUnsafe(SIZE),
    pos: 0,
    reserve: (n) => {
      if (sink.buf.length - sink.pos < n) flush();
    },
  };
  const drained = (): Promise<void> | null => {
    if (!full) return null;
    return new Promise((resolve) =>
      stream.once('drain', () => {
        full = false;
        resolve();
      }),
    );
  };
  process.on('exit', flush);
  return {
    write: (s) => {
      if (isTTY) return void stream.write(s);
      // UTF-8 takes at most 3 bytes per UTF-16 unit.
      if (s.length * 3 > SIZE - sink.pos) {
        flush();
        if (s.length * 3 > SIZE) {
          if (!stream.write(s)) full = true;
          return;
        }
      }
      sink.pos += sink.buf.write(s, sink.pos);
    },
    flush,
    drained,
    ...(isTTY ? {} : { bytes: sink }),
    isTTY,
    columns: stream.columns || 100,
    color: wantColor(isTTY),
  };
}

/** An Output that collects text, for tests and for rendering into files. Bytes (see ByteSink) are decoded as UTF-8. */
export function memoryOutput(opts: { isTTY?: boolean; color?: boolean; columns?: number } = {}): Output & { text(): string } {
  const parts: string[] = [];
  const isTTY = opts.isTTY ?? false;
  const take = () => {
    if (sink.pos === 0) return;
    parts.push(sink.buf.toString('utf8', 0, sink.pos));
    sink.pos = 0;
  };
  // Small, so that tests go through reserve's writing out as well.
  const sink: ByteSink = {
    buf: Buffer.alloc(RESERVE_MAX),
    pos: 0,
    reserve: (n) => {
      if (sink.buf.length - sink.pos < n) take();
    },
  };
  return {
    write: (s) => {
      take();
      parts.push(s);
    },
    ...(isTTY ? {} : { bytes: sink }),
    isTTY,
    columns: opts.columns ?? 100,
    color: opts.color ?? false,
    text: () => {
      take();
      return parts.join('');
    },
  };
}

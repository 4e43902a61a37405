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
  readonly isTTY: boolean;
  readonly columns: number;
  /** Colours on a terminal unless NO_COLOR is set; FORCE_COLOR (non-empty, not "0") forces them anywhere. */
  readonly color: boolean;
}

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
  let buf = Buffer.allocUnsafe(SIZE);
  let used = 0;
  let full = false;
  const flush = () => {
    if (used === 0) return;
    if (!stream.write(buf.subarray(0, used))) full = true;
    if (stream.writableLength > 0) buf = Buffer.allocUnsafe(SIZE);
    used = 0;
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
      if (s.length * 3 > SIZE - used) {
        flush();
        if (s.length * 3 > SIZE) {
          if (!stream.write(s)) full = true;
          return;
        }
      }
      used += buf.write(s, used);
    },
    flush,
    drained,
    isTTY,
    columns: stream.columns || 100,
    color: wantColor(isTTY),
  };
}

/** An Output that collects text, for tests and for rendering into files. */
export function memoryOutput(opts: { isTTY?: boolean; color?: boolean; columns?: number } = {}): Output & { text(): string } {
  const parts: string[] = [];
  return {
    write: (s) => void parts.push(s),
    isTTY: opts.isTTY ?? false,
    columns: opts.columns ?? 100,
    color: opts.color ?? false,
    text: () => parts.join(''),
  };
}

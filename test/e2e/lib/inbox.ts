/**
 * What one client has received, kept in order, with "wait until something like this has arrived". Events are
 * recorded from the moment the client is created, so a wait that starts after the event still finds it: the
 * scenarios never race their own listeners.
 */
export class Inbox<T> {
  readonly items: T[] = [];
  private waiters: { pred: (x: T) => boolean; resolve: (x: T) => void }[] = [];

  /** describe: how a failed wait shows the last few items (the usual cause of a timeout is a near miss). */
  constructor(
    readonly owner: string,
    private readonly describe: (x: T) => string = (x) => JSON.stringify(x),
  ) {}

  push(item: T): void {
    this.items.push(item);
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.pred(item)) w.resolve(item);
      else still.push(w);
    }
    this.waiters = still;
  }

  /** The first item (already here or still to come) that matches; rejects after timeoutMs naming what was awaited. */
  waitFor(pred: (x: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
    const have = this.items.find(pred);
    if (have !== undefined) return Promise.resolve(have);
    return new Promise<T>((resolve, reject) => {
      const entry = {
        pred,
        resolve: (x: T) => {
          clearTimeout(timer);
          resolve(x);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== entry);
        const last = this.items.slice(-3).map((x) => `  ${this.describe(x).slice(0, 600)}`);
        reject(new Error(`${this.owner}: no ${what} within ${timeoutMs} ms (${this.items.length} events received; last:\n${last.join('\n')})`));
      }, timeoutMs);
      this.waiters.push(entry);
    });
  }
}

/** Rejects with a named timeout if the promise takes longer than ms. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

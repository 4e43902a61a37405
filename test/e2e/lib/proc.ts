/**
 * Child processes for the e2e harness (ngircd, prosody, tcpdump): each runs in its own process group so that a
 * stop reaches whatever it forked, its output is kept (the tail) for error messages, and every group still alive
 * when the test process exits is killed, so that a failed or interrupted run leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

const OUTPUT_TAIL = 16 * 1024;

/** Process groups started here and not yet reaped; killed on exit as a last resort. */
const live = new Set<number>();
process.on('exit', () => {
  for (const pgid of live) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface Managed {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Last OUTPUT_TAIL characters of stdout and stderr, interleaved as they came. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** Signals the whole group, waits for the leader to exit; SIGKILL to the group after graceMs. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

/** Resolves a daemon that Debian installs in /usr/sbin, which is not on a non-root user's PATH. */
export function findCommand(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin'])) {
    if (!dir) continue;
    const p = `${dir}/${name}`;
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new Error(`${name} not found on PATH or in /usr/sbin (install the Debian package; see test/e2e/README.md)`);
}

export function startProcess(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Managed {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    // Own process group: the group id is the pid, so kill(-pid) reaches the children it may fork.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString('utf8');
    if (out.length > OUTPUT_TAIL * 2) out = out.slice(-OUTPUT_TAIL);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (err) => {
      done = true;
      keep(Buffer.from(`\n[spawn ${cmd}: ${err.message}]\n`));
      resolve('spawn-error');
    });
    child.on('exit', (code, signal) => {
      done = true;
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const pid = child.pid ?? -1;
  if (pid > 0) live.add(pid);
  void exited.then(() => {
    // The leader is gone; a forked helper could still hold the group, so it is killed before forgetting it.
    if (pid > 0) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // group empty
      }
      live.delete(pid);
    }
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) => {
    if (!done && pid > 0) {
      try {
        process.kill(-pid, signal);
        // A stopped process (SIGSTOP, a debugger) would only act on the signal after SIGCONT.
        if (signal !== 'SIGKILL') process.kill(-pid, 'SIGCONT');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };
  return { child, pid, output: () => out.slice(-OUTPUT_TAIL), exited, hasExited: () => done, stop };
}

/**
 * The kernel's ephemeral range, from which it picks client ports. Server ports are chosen below it: a port the
 * kernel hands out as "free" is one it may give to the next outgoing connection too, and a client flow on the DCC
 * or server port would land in the capture filter and be taken for the server's.
 */
function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 1024) return low;
  } catch {
    // not Linux
  }
  return 32768;
}

function tryListen(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

/**
 * n distinct ports free on 127.0.0.1 a moment ago, below the ephemeral range where there is room (the caller binds
 * them soon after; all are held while the next is tried, so they differ).
 */
export async function freePorts(n: number): Promise<number[]> {
  const low = ephemeralLow();
  const from = Math.min(20_000, Math.max(1025, low - 10_000));
  const held: net.Server[] = [];
  try {
    for (let tries = 0; held.length < n && tries < 200; tries++) {
      const port = low - from > n ? from + Math.floor(Math.random() * (low - from)) : 0;
      const srv = await tryListen(port);
      if (srv) held.push(srv);
    }
    if (held.length < n) throw new Error(`no ${n} free ports on 127.0.0.1`);
    return held.map((s) => {
      const addr = s.address();
      return typeof addr === 'object' && addr ? addr.port : 0;
    });
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

export async function freePort(): Promise<number> {
  const [p] = await freePorts(1);
  return p!;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits until something accepts TCP connections on 127.0.0.1:port. Fails early, with the process's output, when
 * the process exits first — a bad config otherwise shows up only as a timeout.
 */
export async function waitForPort(port: number, proc: Managed, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (proc.hasExited()) {
      throw new Error(`${what} exited (${await proc.exited}) before listening on port ${port}:\n${proc.output()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`${what} not listening on port ${port} after ${timeoutMs} ms:\n${proc.output()}`);
    await sleep(50);
  }
}

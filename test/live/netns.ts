/**
 * A veth pair across two network namespaces, made for a test and removed after it (also when the test process
 * exits early): packets replayed with tcpreplay into `a` arrive on `b`, where `imtap live` captures. Needs root,
 * `ip` (iproute2) and `tcpreplay`.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface VethPair {
  nsA: string;
  nsB: string;
  ifA: string;
  ifB: string;
  /** Runs a command in namespace `ns` (argv, no shell). */
  cmd(ns: string, argv: string[]): string[];
  remove(): void;
}

const has = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0;

/** Why the namespace tests cannot run here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (ip netns)';
  for (const c of ['ip', 'tcpreplay', 'tcpdump', 'setpriv']) if (!has(c)) return `needs ${c}`;
  const probe = `imtprobe${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns add fails here: ${r.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

export function makeVethPair(tag: string): VethPair {
  const id = `${tag}${process.pid % 100000}`;
  const p: VethPair = {
    nsA: `imtap-${id}-a`,
    nsB: `imtap-${id}-b`,
    ifA: `va${id}`.slice(0, 15),
    ifB: `vb${id}`.slice(0, 15),
    cmd: (ns, argv) => ['ip', 'netns', 'exec', ns, ...argv],
    remove() {
      // Processes still in the namespaces were started by this test (imtap, tcpdump): end them by their ids.
      for (const ns of [p.nsA, p.nsB]) {
        const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
        for (const pid of pids) spawnSync('kill', ['-KILL', pid]);
        spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      }
    },
  };
  process.on('exit', () => p.remove());
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: ['ignore', 'ignore', 'pipe'] });
  ip('netns', 'add', p.nsA);
  ip('netns', 'add', p.nsB);
  ip('link', 'add', p.ifA, 'type', 'veth', 'peer', 'name', p.ifB);
  ip('link', 'set', p.ifA, 'netns', p.nsA);
  ip('link', 'set', p.ifB, 'netns', p.nsB);
  // No IPv6 on the pair: the kernel's own router solicitations and MLD reports would be captured along with the replay.
  for (const [ns, ifc] of [[p.nsA, p.ifA], [p.nsB, p.ifB]] as const) {
    spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${ifc}.disable_ipv6=1`], { stdio: 'ignore' });
    ip('-n', ns, 'link', 'set', ifc, 'mtu', '9000', 'up');
  }
  return p;
}

/** The independent tools the tests compare against (Debian package tshark: tshark, capinfos, editcap, mergecap). */
import { execFileSync } from 'node:child_process';

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface CapinfosRow {
  packets: number;
  dataBytes: number;
  first: string; // epoch seconds with the file's precision
  last: string;
  /** One "Description" per interface, in order, as capinfos -M prints "Encapsulation = Description (n - name)". */
  encapsulations: string[];
}

export function capinfos(file: string): CapinfosRow {
  const line = run('capinfos', ['-T', '-r', '-c', '-d', '-a', '-e', '-S', file]).trim().split('\n').pop()!;
  const [, packets, data, first, last] = line.split('\t');
  const m = run('capinfos', ['-M', file]);
  const encapsulations = [...m.matchAll(/Encapsulation = (.*) \(\d+ - [^)]*\)/g)].map((x) => x[1]!);
  return { packets: Number(packets), dataBytes: Number(data), first: first!, last: last!, encapsulations };
}

/** One line per packet from tshark: epoch time (9 digits), wire length, captured length. */
export function tsharkFrames(file: string): { time: string; len: number; caplen: number }[] {
  const out = run('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len']);
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [time, len, caplen] = l.split('\t');
      return { time: time!, len: Number(len), caplen: Number(caplen) };
    });
}

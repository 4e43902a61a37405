/** Locating the real captures of fixtures/pcaps: a new file there is a new test case. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PCAPS = path.join(ROOT, 'fixtures/pcaps');

/** Every capture under fixtures/pcaps (by extension only to find them; imtap itself sniffs the format). */
export function allCaptures(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|dmp)$/.test(e.name)) out.push(p);
    }
  };
  walk(PCAPS);
  return out.sort();
}

/**
 * Every capture except the composite demo day (`fixtures/pcaps/demo/`), which mixes every protocol on purpose: for the
 * tests that check a protocol is found only in its own folder (test/demo checks what the demo day contains).
 */
export function singleProtocolCaptures(): string[] {
  return allCaptures().filter((f) => !path.relative(PCAPS, f).startsWith(`demo${path.sep}`));
}

export function fixture(rel: string): string {
  return path.join(PCAPS, rel);
}

export function rel(p: string): string {
  return path.relative(PCAPS, p);
}

/** Headless Chromium for the HTML report tests: the browser on PATH, a run on a page, the console lines it logged. */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The Chromium on PATH (Debian package `chromium`), or undefined. */
export const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find(
  (c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0,
);

/** Chromium headless on `file` with `args` (`--dump-dom`, `--screenshot=F`…), a fresh profile under `dir`, logging to stderr. */
export function runChromium(dir: string, args: string[], file: string): Promise<{ stdout: string; stderr: string }> {
  if (chromium === undefined) return Promise.reject(new Error('chromium is not installed (apt-get install -y chromium)'));
  const profile = fs.mkdtempSync(path.join(dir, 'profile-'));
  return new Promise((resolve, reject) => {
    execFile(
      chromium,
      ['--headless', '--disable-gpu', '--no-sandbox', '--no-first-run', '--disable-extensions',
        `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', ...args, `file://${file}`],
      { timeout: 25_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr })),
    );
  });
}

/** Console messages Chromium logged for the page (`INFO:CONSOLE:12] "…"`): errors, CSP violations, anything. */
export const consoleLines = (stderr: string) => stderr.split('\n').filter((l) => /:CONSOLE[:(]/.test(l));

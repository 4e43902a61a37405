/**
 * `imtap verify DIR [--head HASH]`: checks a transcript export (`imtap export transcripts`) against its manifest and
 * hash chain. Prints OK with the counts, or every problem found; exit 0 when intact, EXIT.VERIFY_FAILED when not.
 */
import fs from 'node:fs';
import { terminalSafe } from '../util/escape.js';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';

export interface VerifyArgs {
  dir: string;
  head: string | null;
}

export async function verifyCommand(args: VerifyArgs, io: { stdout: Output; stderr: Output }): Promise<number> {
  if (args.head !== null && !/^[0-9a-fA-F]{64}$/.test(args.head)) {
    io.stderr.write(`imtap: --head ${terminalSafe(args.head)} is not a SHA-256 (64 hexadecimal digits)\n`);
    return EXIT.USAGE;
  }
  if (!fs.existsSync(args.dir) || !fs.statSync(args.dir).isDirectory()) {
    io.stderr.write(`imtap: ${terminalSafe(args.dir)} is not a directory\n`);
    return EXIT.ERROR;
  }
  const { verifyExport } = await import('../archive/verify.js');
  let r;
  try {
    r = verifyExport(args.dir, args.head);
  } catch (e) {
    io.stderr.write(`imtap: verifying ${terminalSafe(args.dir)} failed: ${terminalSafe((e as Error).message)}\n`);
    return EXIT.ERROR;
  }
  const dir = terminalSafe(args.dir);
  if (r.ok) {
    io.stdout.write(`OK ${dir}: ${r.files} files, ${r.records} records, chain head ${r.head}\n`);
    return EXIT.OK;
  }
  for (const p of r.problems) io.stdout.write(`FAIL ${terminalSafe(p.message)}\n`);
  io.stdout.write(`${dir}: verification failed: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}\n`);
  return EXIT.VERIFY_FAILED;
}

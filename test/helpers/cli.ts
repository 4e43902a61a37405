/** Running imtap's main() in-process with captured output, as the CLI tests do. */
import { main } from '../../src/cli/main.js';
import { memoryOutput } from '../../src/cli/output.js';

export async function imtap(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = memoryOutput();
  const stderr = memoryOutput();
  const code = await main(argv, { stdout, stderr });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * A throw-away ngircd (Debian package ngircd, 26.x) for the e2e harness: config in a temp dir, foreground (-n),
 * 127.0.0.1 on a free port, no PAM, ident or DNS look-ups (each would delay every connect by a timeout here).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findCommand, freePort, startProcess, waitForPort } from './proc.js';

export interface IrcServer {
  port: number;
  /** The server password every client must send with PASS (ngircd without PAM accepts no other, and no absent one). */
  password: string | undefined;
  /** The server name clients see as the prefix of server messages. */
  name: string;
  /** ngircd's own log lines (stderr in -n mode), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export const IRC_SERVER_NAME = 'irc.imtap.test';

/** ngircd refuses to keep root: it setuids to ServerUID, and falls back to "nobody" when that is root. */
const NOBODY = 65534;

export async function startIrcServer(dir: string, opts: { port?: number; password?: string } = {}): Promise<IrcServer> {
  const port = opts.port ?? (await freePort());
  const root = process.getuid?.() === 0;
  // The pid file is written after the switch to ServerUID, so that user must own its directory and reach it: a
  // dir of its own under the system temp dir, as the caller's dir is mkdtemp's 0700 root.
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-ngircd-'));
  if (root) fs.chownSync(run, NOBODY, NOBODY);
  const conf = path.join(dir, 'ngircd.conf');
  fs.writeFileSync(
    conf,
    [
      '[Global]',
      `\tName = ${IRC_SERVER_NAME}`,
      '\tInfo = imtap e2e test server',
      '\tAdminInfo1 = imtap e2e',
      '\tAdminInfo2 = localhost',
      '\tAdminEMail = e2e@imtap.test',
      '\tListen = 127.0.0.1',
      `\tPorts = ${port}`,
      '\tMotdPhrase = "imtap e2e"',
      `\tPidFile = ${path.join(run, 'ngircd.pid')}`,
      ...(opts.password !== undefined ? [`\tPassword = ${opts.password}`] : []),
      ...(root ? [`\tServerUID = ${NOBODY}`, `\tServerGID = ${NOBODY}`] : []),
      '[Limits]',
      // All clients come from 127.0.0.1.
      '\tMaxConnectionsIP = 0',
      '\tMaxNickLength = 30',
      '\tMaxJoins = 0',
      '\tPingTimeout = 600',
      '\tPongTimeout = 60',
      // Penalties would throttle the scripted clients to about one command per second.
      '\tMaxPenaltyTime = 0',
      '[Options]',
      '\tDNS = no',
      '\tIdent = no',
      '\tPAM = no',
      '\tScrubCTCP = no',
      '\tSyslogFacility = local1',
      '',
    ].join('\n'),
  );
  const proc = startProcess(findCommand('ngircd'), ['-n', '-f', conf], { cwd: dir });
  const stop = async () => {
    await proc.stop('SIGTERM', 3000);
    fs.rmSync(run, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, proc, 'ngircd');
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, password: opts.password, name: IRC_SERVER_NAME, output: () => proc.output(), stop };
}

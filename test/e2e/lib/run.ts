/**
 * One recorded e2e run per protocol: start the real server, start tcpdump on lo, let the real clients play the
 * scenario, stop the capture, stop the server. The pcap and the clients' log are the two sides the e2e tests
 * compare: imtap's rows from the pcap against what the clients did. Everything started here is stopped in finally
 * blocks, in reverse order, whether or not a step failed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startCapture, portFilter, type CaptureStats } from './capture.js';
import { startIrcServer } from './irc-server.js';
import { startXmppServer } from './xmpp-server.js';
import { runIrcClients, type IrcLog } from './irc-scenario.js';
import { runXmppClients, XMPP_USERS, type XmppLog } from './xmpp-scenario.js';
import { freePorts } from './proc.js';

export interface RunResult<L> {
  /** The capture, in dir. */
  pcap: string;
  log: L;
  /** tcpdump's closing counts (droppedByKernel should be 0). */
  capture: CaptureStats;
  /** The ports the capture filter kept; the server's first. */
  ports: number[];
  /** Wall-clock ms of the whole run and of the scenario alone. */
  ms: { total: number; scenario: number };
}

/** Writes the log next to the pcap as JSON, so a failed comparison can be read after the fact. */
function saveLog(dir: string, name: string, log: unknown): void {
  fs.writeFileSync(path.join(dir, name), JSON.stringify(log, null, 2) + '\n');
}

/** The ngircd server password the IRC run uses (every member sends it with PASS; see irc-scenario.ts). */
export const IRC_PASSWORD = 'sesame-42';

/**
 * ngircd on a free port, tcpdump on it and on the DCC port, the IRC scenario. Files in dir: irc.pcap, irc-log.json,
 * the DCC file, ngircd's config. password: undefined for a server without one (then nobody sends PASS).
 */
export async function runIrcScenario(
  dir: string,
  opts: { dccSize?: number; password?: string | undefined; stepTimeoutMs?: number } = {},
): Promise<RunResult<IrcLog>> {
  const password = 'password' in opts ? opts.password : IRC_PASSWORD;
  const t0 = Date.now();
  fs.mkdirSync(dir, { recursive: true });
  const [ircPort, dccPort] = (await freePorts(2)) as [number, number];
  const pcap = path.join(dir, 'irc.pcap');
  const server = await startIrcServer(dir, { port: ircPort, ...(password !== undefined ? { password } : {}) });
  try {
    const capture = await startCapture(pcap, portFilter([ircPort, dccPort]));
    let log: IrcLog;
    let t1 = 0;
    try {
      t1 = Date.now();
      log = await runIrcClients({
        host: '127.0.0.1',
        port: ircPort,
        dccPort,
        dir,
        ...(password !== undefined ? { password } : {}),
        ...(opts.dccSize !== undefined ? { dccSize: opts.dccSize } : {}),
        ...(opts.stepTimeoutMs !== undefined ? { stepTimeoutMs: opts.stepTimeoutMs } : {}),
      });
      t1 = Date.now() - t1;
    } catch (err) {
      throw withOutput(err, 'ngircd', server.output());
    } finally {
      await settle();
      await capture.stop().catch(() => undefined);
    }
    const stats = await capture.stop();
    saveLog(dir, 'irc-log.json', log);
    return { pcap, log, capture: stats, ports: [ircPort, dccPort], ms: { total: Date.now() - t0, scenario: t1 } };
  } finally {
    await server.stop();
  }
}

/** prosody on a free port with three users, tcpdump on its c2s port, the XMPP scenario. Files: xmpp.pcap, xmpp-log.json. */
export async function runXmppScenario(dir: string, opts: { fileSize?: number; stepTimeoutMs?: number } = {}): Promise<RunResult<XmppLog>> {
  const t0 = Date.now();
  fs.mkdirSync(dir, { recursive: true });
  const [port] = (await freePorts(1)) as [number];
  const pcap = path.join(dir, 'xmpp.pcap');
  const server = await startXmppServer(dir, { port, users: XMPP_USERS });
  try {
    const capture = await startCapture(pcap, portFilter([port]));
    let log: XmppLog;
    let t1 = 0;
    try {
      t1 = Date.now();
      log = await runXmppClients({
        host: '127.0.0.1',
        port,
        domain: server.domain,
        mucDomain: server.mucDomain,
        dir,
        ...(opts.fileSize !== undefined ? { fileSize: opts.fileSize } : {}),
        ...(opts.stepTimeoutMs !== undefined ? { stepTimeoutMs: opts.stepTimeoutMs } : {}),
      });
      t1 = Date.now() - t1;
    } catch (err) {
      throw withOutput(err, 'prosody', server.output());
    } finally {
      await settle();
      await capture.stop().catch(() => undefined);
    }
    const stats = await capture.stop();
    saveLog(dir, 'xmpp-log.json', log);
    return { pcap, log, capture: stats, ports: [port], ms: { total: Date.now() - t0, scenario: t1 } };
  } finally {
    await server.stop();
  }
}

/** The last FIN/ACKs of a closing connection leave a moment after the client's close event; keep them in the file. */
const settle = () => new Promise<void>((r) => setTimeout(r, 300));

function withOutput(err: unknown, what: string, output: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  e.message += `\n--- ${what} output (tail) ---\n${output.slice(-4000)}`;
  return e;
}

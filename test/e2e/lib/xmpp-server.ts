/**
 * A throw-away prosody (Debian package prosody, 0.12.x) for the e2e harness: config, data, certs and log in a temp
 * dir, foreground (-F), c2s on 127.0.0.1 on a free port, plaintext streams with SASL PLAIN allowed (so the wire shows
 * what a tap sees on an unencrypted server), no s2s, one virtual host with roster, and a MUC component.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { findCommand, freePort, startProcess, waitForPort } from './proc.js';

export interface XmppUser {
  username: string;
  password: string;
}

export interface XmppServer {
  port: number;
  /** The virtual host, e.g. example.test. */
  domain: string;
  /** The MUC component, conference.<domain>. */
  mucDomain: string;
  /** Creates an account (prosodyctl register, which writes the data dir directly). */
  register(user: XmppUser): void;
  /** prosody's log file, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Lua string literal: the paths come from mkdtemp and cannot hold a quote, but a backslash must not slip through. */
const lua = (s: string) => JSON.stringify(s);

export async function startXmppServer(
  dir: string,
  opts: { port?: number; domain?: string; users?: XmppUser[] } = {},
): Promise<XmppServer> {
  const port = opts.port ?? (await freePort());
  const domain = opts.domain ?? 'example.test';
  const mucDomain = `conference.${domain}`;
  const data = path.join(dir, 'prosody-data');
  const certs = path.join(dir, 'prosody-certs');
  const log = path.join(dir, 'prosody.log');
  fs.mkdirSync(data, { recursive: true });
  // An empty certificate dir: without one prosody logs an error for the missing default dir; with no certificate
  // it offers no STARTTLS, which is what this harness wants.
  fs.mkdirSync(certs, { recursive: true });
  const conf = path.join(dir, 'prosody.cfg.lua');
  fs.writeFileSync(
    conf,
    [
      '-- imtap e2e: written by test/e2e/lib/xmpp-server.ts',
      // CI runs as root; prosody's mod_posix refuses root unless told, and prosodyctl would otherwise setuid to the
      // "prosody" user, which cannot read a root-owned temp dir.
      'run_as_root = true',
      `pidfile = ${lua(path.join(dir, 'prosody.pid'))}`,
      `data_path = ${lua(data)}`,
      `certificates = ${lua(certs)}`,
      `log = { { levels = { min = "info" }, to = "file", filename = ${lua(log)} } }`,
      'interfaces = { "127.0.0.1" }',
      `c2s_ports = { ${port} }`,
      // No other listener: direct TLS, legacy SSL, s2s, HTTP, components, admin socket.
      'c2s_direct_tls_ports = { }',
      'legacy_ssl_ports = { }',
      's2s_ports = { }',
      'component_ports = { }',
      'http_ports = { }',
      'https_ports = { }',
      'modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "posix"; "version"; "time" }',
      // s2s is auto-loaded; offline storage would deliver stale stanzas if a step raced a log-out.
      'modules_disabled = { "s2s"; "s2s_auth_certs"; "offline" }',
      'c2s_require_encryption = false',
      's2s_require_encryption = false',
      'allow_unencrypted_plain_auth = true',
      // Plain storage: SASL PLAIN and SCRAM both work, and the password file is readable when debugging.
      'authentication = "internal_plain"',
      'storage = "internal"',
      // Prosody limits c2s reads by default only through mod_limits, which is not loaded; stanzas up to 10 MB.
      'c2s_stanza_size_limit = 10 * 1024 * 1024',
      '',
      `VirtualHost ${lua(domain)}`,
      '',
      `Component ${lua(mucDomain)} "muc"`,
      // A new room is otherwise locked until its owner submits a configuration form (XEP-0045 §10.1.2), and the
      // second user's join would fail with item-not-found.
      '  muc_room_locking = false',
      '  restrict_room_creation = false',
      '',
    ].join('\n'),
  );
  const prosodyctl = findCommand('prosodyctl');
  const register = (u: XmppUser) => {
    execFileSync(prosodyctl, ['--config', conf, 'register', u.username, domain, u.password], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15_000,
    });
  };
  for (const u of opts.users ?? []) register(u);
  const proc = startProcess(findCommand('prosody'), ['--config', conf, '-F'], { cwd: dir });
  const output = () => {
    let text = proc.output();
    try {
      text += fs.readFileSync(log, 'utf8').slice(-16 * 1024);
    } catch {
      // no log yet
    }
    return text;
  };
  try {
    await waitForPort(port, { ...proc, output }, 'prosody');
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return {
    port,
    domain,
    mucDomain,
    register,
    output,
    stop: async () => {
      await proc.stop('SIGTERM', 5000);
    },
  };
}

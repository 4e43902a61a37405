#!/usr/bin/env node
// pretest: the test suite compares imtap with real tools (tshark, capinfos, editcap, mergecap from Debian's
// tshark package), pipes tcpdump into it, and records real IRC and XMPP servers (ngircd, prosody) for the e2e
// tests. When one is missing: as root, install it with apt-get; otherwise say exactly what to run.
import { execFileSync, spawnSync } from 'node:child_process';

/** command → Debian package that provides it */
const NEEDED = {
  tshark: 'tshark',
  capinfos: 'tshark',
  editcap: 'tshark',
  mergecap: 'tshark',
  tcpdump: 'tcpdump',
  ngircd: 'ngircd',
  prosody: 'prosody',
  prosodyctl: 'prosody',
  chromium: 'chromium', // the HTML report test loads the page headless
  tcpreplay: 'tcpreplay', // the live tests replay captures into a veth pair
  ip: 'iproute2', // … made in network namespaces
  setpriv: 'util-linux', // … and run imtap live unprivileged
  script: 'bsdutils', // the progress-bar test runs imtap on a pseudo-terminal
  openssl: 'openssl', // the TLS test makes its server certificate
  python3: 'python3', // the archive test parses the .eml files with Python's email module
};

/** Debian starts a package's service on install where policy allows; the e2e tests start their own instances. */
const SERVICES = ['ngircd', 'prosody'];

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = Object.keys(NEEDED).filter((c) => !has(c));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.map((c) => NEEDED[c]))];
const install = `apt-get install -y ${packages.join(' ')}`;
if (typeof process.getuid === 'function' && process.getuid() === 0 && has('apt-get')) {
  console.error(`pretest: installing ${packages.join(', ')} (missing: ${missing.join(', ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env });
    for (const s of SERVICES.filter((x) => packages.includes(x))) spawnSync('service', [s, 'stop'], { stdio: 'ignore' });
  } catch {
    console.error(`pretest: the install failed; run as root: apt-get update && ${install}`);
    process.exit(1);
  }
  const still = Object.keys(NEEDED).filter((c) => !has(c));
  if (still.length > 0) {
    console.error(`pretest: still missing after the install: ${still.join(', ')}`);
    process.exit(1);
  }
  process.exit(0);
}
console.error(`The tests need ${missing.join(', ')}. Install them first, as root:\n  apt-get update && ${install}`);
process.exit(1);

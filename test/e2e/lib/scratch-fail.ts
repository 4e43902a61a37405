import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runIrcScenario, runXmppScenario } from './run.js';
const which = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fail-scratch-'));
const t0 = Date.now();
const stopper = setInterval(() => {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n').filter(l => l.includes(dir) && /ngircd|prosody/.test(l) && !l.includes('prosodyctl'));
  if (ps.length && Date.now() - t0 > 400) { const pid = Number(ps[0]!.trim().split(' ')[0]); console.log('SIGSTOP', ps[0]); process.kill(pid, 'SIGSTOP'); clearInterval(stopper); }
}, 50);
try {
  await (which === 'xmpp' ? runXmppScenario(dir) : runIrcScenario(dir));
  console.log('unexpected success');
} catch (e) { console.log('failed as expected:', String(e).slice(0, 400)); }
clearInterval(stopper);
console.log('elapsed', Date.now() - t0);
console.log('survivors:', execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' }).split('\n').filter(l => l.includes(dir)));
console.log(fs.readdirSync(dir));

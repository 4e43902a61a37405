/** The hand-built conversation writer produces captures tshark accepts: valid checksums, one TCP stream, the bytes in order. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { tempDir } from '../helpers/temp.js';

t.test('a TCP conversation: tshark reassembles the same bytes and finds the checksums valid', async (t) => {
  const dir = tempDir('conv');
  const c2s = Buffer.alloc(4000, 0x41);
  const file = path.join(dir, 'c.pcap');
  fs.writeFileSync(file, conversationPcap([{ client: '10.0.0.1', server: '10.0.0.2', cport: 40000, sport: 5050, parts: [[0, c2s], [1, 'hello back'], [0, 'x']], mss: 1000 }, { client: '10.0.0.1', server: '10.0.0.3', cport: 40001, sport: 5060, transport: 'udp', parts: [[0, 'ping'], [1, 'pong']] }]));
  const bad = execFileSync('tshark', ['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-Y', 'tcp.checksum.status == 0 || udp.checksum.status == 0 || ip.checksum.status == 0 || tcp.analysis.flags'], { encoding: 'utf8' });
  t.equal(bad.trim(), '', 'no bad checksum, no TCP analysis warning');
  const follow = execFileSync('tshark', ['-r', file, '-q', '-z', 'follow,tcp,raw,0'], { encoding: 'utf8' });
  const hex = (side: boolean) => follow.split('\n').filter((l) => /^\t?[0-9a-f]+$/.test(l) && l.startsWith('\t') === side).map((l) => l.trim()).join('');
  t.equal(hex(false), Buffer.concat([c2s, Buffer.from('x')]).toString('hex'));
  t.equal(Buffer.from(hex(true), 'hex').toString(), 'hello back');
  const udp = execFileSync('tshark', ['-r', file, '-Y', 'udp', '-T', 'fields', '-e', 'udp.payload'], { encoding: 'utf8' }).trim().split('\n');
  t.same(udp.map((h) => Buffer.from(h, 'hex').toString()), ['ping', 'pong']);
});

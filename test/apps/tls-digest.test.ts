/**
 * The one-shot digests of src/decoders/apps/tls/digest.ts against node:crypto's stream objects: same bytes for every
 * length around SHA-256's 64-byte block, keys up to and past the block, and messages past the scratch blocks.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import t from 'tap';
import { digestText, hmacSha256 } from '../../src/decoders/apps/tls/digest.js';

t.test('digestText equals createHash', async (t) => {
  let bad = 0;
  for (let n = 0; n < 300; n++) {
    const b = randomBytes(n);
    // A view inside a larger buffer: only its own bytes are hashed.
    const big = Buffer.concat([randomBytes(3), b, randomBytes(5)]);
    const v = new Uint8Array(big.buffer, big.byteOffset + 3, n);
    if (digestText('sha256', b, 'hex') !== createHash('sha256').update(b).digest('hex')) bad++;
    if (digestText('sha1', b, 'base64') !== createHash('sha1').update(b).digest('base64')) bad++;
    if (digestText('sha256', v, 'hex') !== createHash('sha256').update(b).digest('hex')) bad++;
  }
  t.equal(bad, 0, '900 digests');
});

t.test('hmacSha256 equals createHmac', async (t) => {
  let bad = 0;
  let checked = 0;
  for (const kl of [0, 1, 8, 20, 32, 63, 64, 65, 100]) {
    for (const ml of [0, 1, 17, 47, 55, 56, 64, 200, 256, 257, 1000]) {
      const k = randomBytes(kl);
      const m = randomBytes(ml);
      const r = hmacSha256(k, m);
      if (!r.equals(createHmac('sha256', k).update(m).digest())) bad++;
      // The result is the caller's: the next call does not change it.
      const copy = Buffer.from(r);
      hmacSha256(randomBytes(kl), randomBytes(ml));
      if (!r.equals(copy)) bad++;
      checked++;
    }
  }
  t.equal(bad, 0, `${checked} key and message lengths`);
});

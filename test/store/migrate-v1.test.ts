/**
 * A database written by imtap at schema version 1 (fixtures/db/schema-v1.duckdb, made by that version) is brought
 * to the current schema when opened: every table as declared in schema.ts, every old row kept, the new columns NULL,
 * and a new ingest into it works.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { openStore, schemaDifferences } from '../../src/store/db.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { ingestCapture } from '../../src/store/ingest.js';
import { fixture, ROOT } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';

const rows = async (s: Awaited<ReturnType<typeof openStore>>, sql: string) => (await s.connection.runAndReadAll(sql)).getRowObjectsJS();

t.test('a version-1 file is migrated to the current schema, its rows kept', async (t) => {
  const dir = tempDir('migrate-v1');
  const f = path.join(dir, 'v1.duckdb');
  fs.copyFileSync(path.join(ROOT, 'fixtures/db/schema-v1.duckdb'), f);
  const s = await openStore(f);
  t.equal(s.migratedFrom, 1);
  t.equal(s.version, SCHEMA_VERSION);
  t.same(await schemaDifferences(s.connection), []);
  t.same(await rows(s, 'SELECT capture_id, path, status, packets FROM captures ORDER BY capture_id'), [
    { capture_id: 1n, path: 'fixtures/pcaps/irc/irc-privmsg.pcap', status: 'complete', packets: 48n },
    { capture_id: 2n, path: 'fixtures/pcaps/sip/sip-call.pcap', status: 'complete', packets: 112n },
  ]);
  t.same(await rows(s, 'SELECT capture_id, count(*) AS n, count(encrypted) AS enc FROM flows GROUP BY ALL ORDER BY 1'), [
    { capture_id: 1n, n: 1n, enc: 0n },
    { capture_id: 2n, n: 6n, enc: 0n },
  ]);
  t.same(await rows(s, 'SELECT count(*) AS n FROM events'), [{ n: 0n }]);
  // The same capture is already there (same SHA-256): nothing to do; another one goes in with the new columns.
  const again = await ingestCapture(s, fixture('irc/irc-privmsg.pcap'));
  t.equal(again.outcome, 'already');
  const r = await ingestCapture(s, fixture('irc/irc-basic.pcap'));
  t.equal(r.outcome, 'ingested');
  t.equal(r.captureId, 3);
  s.close();
  // Reopening does not migrate again.
  const s2 = await openStore(f);
  t.equal(s2.migratedFrom, null);
  s2.close();
});

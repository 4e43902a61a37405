#!/usr/bin/env -S node --max-semi-space-size=8
// The V8 flag above caps the young generation at 8 MiB per semi-space: left to grow to its default 16 MiB during a
// long run, it makes peak memory depend on how long the input is (measured: 94 → 113 MiB from 60 to 240 corpus
// copies with --flows; 95 → 97 MiB with the cap), at no measurable cost in speed. `env -S` passes it on Linux.
// Thin entry point: everything lives in src/cli so that tests can call main() without spawning a process.

// `imtap ingest` writes through a worker thread that loads DuckDB: started first, it loads while the command line
// and the decoders are (about 0.2 s of a short ingest saved; unused, as after a usage error, it costs nothing).
if (process.argv[2] === 'ingest') (await import('../src/store/worker-store.js')).prewarmStoreWorker();
const { main } = await import('../src/cli/main.js');

process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// The npm registry this project is built against serves DuckDB's native packages for Linux only. npm then leaves
// @duckdb/node-bindings' optional packages for other platforms out of package-lock.json, and `npm ci` refuses the
// lock ("Missing: @duckdb/node-bindings-darwin-arm64@ from lock file"). This adds each missing one as an optional,
// platform-restricted entry — what npm itself records — so that `npm ci` skips it on this platform as it should.
// Run after any `npm install` that rewrites the lock: node scripts/lock-platform-stubs.mjs
import fs from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const packages = lock.packages;
const platform = (suffix) => {
  const [os, cpu, musl] = suffix.split('-');
  return { os, cpu, libc: os === 'linux' ? (musl === 'musl' ? 'musl' : 'glibc') : null };
};
let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  if (!key.endsWith('node_modules/@duckdb/node-bindings')) continue;
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = `${key.slice(0, -'@duckdb/node-bindings'.length)}${name}`;
    if (packages[at]) continue;
    const p = platform(name.slice('@duckdb/node-bindings-'.length));
    packages[at] = { version, cpu: [p.cpu], license: 'MIT', optional: true, os: [p.os], ...(p.libc ? { libc: [p.libc] } : {}) };
    added++;
  }
}
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`lock-platform-stubs: ${added} optional platform entr${added === 1 ? 'y' : 'ies'} added`);

#!/usr/bin/env node
// Thin entry point: everything lives in src/cli so that tests can call main() without spawning a process.
import { main } from '../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));

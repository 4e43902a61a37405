// Loaded with --require by bench/run.mjs: reports the process's peak resident set size at exit, for when
// /usr/bin/time is not installed.
process.on('exit', () => {
  process.stderr.write(`IMTAP_NODE_MAXRSS_KB=${process.resourceUsage().maxRSS}\n`);
});

/**
 * The command line: option tables and dispatch. Each command's module is imported only when that command runs, so
 * that `imtap --help` starts without loading the heavy parts.
 */
import { createRequire } from 'node:module';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';

// yargs 17 through require: its CommonJS build loads in about 25 ms, its ES module build (and yargs 18's) in
// 45-130 ms, which every run of every command would pay.
const yargs = createRequire(import.meta.url)('yargs/yargs') as typeof import('yargs/yargs');

class UsageError extends Error {}

// yargs-parser drops a lone "-" (the conventional name of standard input), so it is carried through parsing under
// a token no user types, and restored before a command sees its arguments.
const STDIN_TOKEN = '\u0000stdin';
const restoreStdin = (names: string[]) => names.map((n) => (n === STDIN_TOKEN ? '-' : n));

export interface MainIo {
  stdout: Output;
  stderr: Output;
  stdin?: NodeJS.ReadableStream;
}

/** Run imtap with the given arguments; resolves to the exit code. Never calls process.exit. */
export async function main(argv: string[], io?: Partial<MainIo>): Promise<number> {
  const { processOutput } = await import('./output.js');
  const out = io?.stdout ?? processOutput(process.stdout);
  const err = io?.stderr ?? processOutput(process.stderr);
  let code: number = EXIT.OK;
  argv = argv.map((a) => (a === '-' ? STDIN_TOKEN : a));
  const parser = yargs(argv)
    .scriptName('imtap')
    .usage('imtap — who uses which instant messenger, from where, and what they send (from captured traffic)\n\nUsage: $0 <command> [options]')
    .command(
      'inspect <captures..>',
      'Describe capture files: format, link types, packets, bytes, time span, protocols, anomalies, damage',
      (y) =>
        y
          .positional('captures', { type: 'string', array: true, describe: 'pcap or pcapng files (gzip allowed); "-" reads standard input', demandOption: true })
          .option('json', { type: 'boolean', default: false, describe: 'print JSON (an array, one object per capture)' })
          .option('flows', { type: 'boolean', default: false, describe: 'also list every TCP/UDP flow (endpoints, orientation, counters, duration, gaps, anomalies)' })
          .example('$0 inspect fixtures/pcaps/irc/irc-privmsg.pcap', 'summary of one capture')
          .example('$0 inspect --flows fixtures/pcaps/irc/irc-basic.pcap', 'one line per TCP/UDP flow, then the summary')
          .example('tcpdump -i eth0 -w - | $0 inspect -', 'read a live pipe from standard input'),
      async (args) => {
        const { inspectCommand } = await import('./inspect.js');
        code = await inspectCommand({ captures: restoreStdin(args.captures as string[]), json: args.json, flows: args.flows }, { stdout: out, stderr: err, stdin: io?.stdin });
      },
    )
    .command(
      'ingest <captures..>',
      'Read captures into the DuckDB database: flows, IM accounts, messages, transfers, contacts, events, anomalies (a capture already there is skipped)',
      (y) =>
        y
          .positional('captures', { type: 'string', array: true, describe: 'pcap or pcapng files (gzip allowed); "-" reads standard input', demandOption: true })
          .option('db', { type: 'string', describe: 'the database file (default: $IMTAP_DB, else ./imtap.duckdb)' })
          .option('sensor', { type: 'string', describe: 'name of the sensor or tap the captures come from' })
          .option('replace', { type: 'boolean', default: false, describe: 'ingest again a capture that is already in the database' })
          .option('extract', { type: 'string', describe: 'write files sent over IM (IRC DCC, XMPP bytestreams) into this directory (created if missing)' })
          .option('rules', { type: 'string', describe: 'app rules file (host names, sites, IP ranges: docs/rules.md) taking precedence over the built-in ones; repeatable' })
          .option('analyze', { type: 'boolean', default: true, hidden: true, describe: 'run the IM and app analyzers (--no-analyze: flows and anomalies only, for measuring the storage alone)' })
          .option('watchlist', { type: 'string', describe: 'watchlist file (words, "phrases", /regexes/ with a severity: docs/reports.md) evaluated over the messages and file names; hits go to the alerts table; repeatable' })
          .option('fail-on-alert', { type: 'boolean', default: false, describe: 'exit with code 4 when this run found watchlist hits (needs --watchlist)' })
          .example('$0 ingest --watchlist policy/watch.txt --fail-on-alert capture.pcap', 'exit code 4 when a message matches a rule')
          .example('$0 ingest fixtures/pcaps/irc/irc-privmsg.pcap', 'into ./imtap.duckdb')
          .example('$0 ingest --extract carved/ capture.pcapng', 'also carve the files sent over IM')
          .example('$0 ingest --db audit.duckdb --sensor hq-span /archive/*.pcap.gz', 'an archive of captures'),
      async (args) => {
        const { ingestCommand, defaultDb } = await import('./ingest.js');
        if (args['fail-on-alert'] && args.watchlist === undefined) throw new UsageError('--fail-on-alert needs --watchlist FILE');
        code = await ingestCommand(
          { captures: restoreStdin(args.captures as string[]), db: args.db ?? defaultDb(), sensor: args.sensor ?? null, replace: args.replace, extract: args.extract ?? null, rules: ([] as (string | undefined)[]).concat(args.rules).filter((r): r is string => typeof r === 'string'), analyze: args.analyze, watchlist: ([] as (string | undefined)[]).concat(args.watchlist).filter((r): r is string => typeof r === 'string'), failOnAlert: args['fail-on-alert'] },
          { stdout: out, stderr: err, stdin: io?.stdin },
        );
      },
    )
    .command(
      'query <sql>',
      'Run SQL on the database (read-only) and print the result',
      (y) =>
        y
          .positional('sql', { type: 'string', describe: 'one SQL statement (tables: docs/schema.md)', demandOption: true })
          .option('db', { type: 'string', describe: 'the database file (default: $IMTAP_DB, else ./imtap.duckdb)' })
          .option('format', { choices: ['table', 'csv', 'json', 'ndjson'] as const, default: 'table' as const, describe: 'output format' })
          .example('$0 query "SELECT transport, count(*) FROM flows GROUP BY ALL"', 'flows per transport')
          .example('$0 query --format csv "SELECT * FROM captures" > captures.csv', 'CSV for a spreadsheet'),
      async (args) => {
        const { queryCommand } = await import('./query.js');
        const { defaultDb } = await import('./ingest.js');
        code = await queryCommand({ db: args.db ?? defaultDb(), sql: args.sql as string, format: args.format }, { stdout: out, stderr: err });
      },
    )
    .command(
      'export [what]',
      'Write the database tables as Parquet, CSV or Arrow IPC files, one per table; or (export transcripts) the messages with their provenance as JSON Lines or .eml files with a hash-chained manifest, for auditors',
      (y) =>
        y
          .positional('what', { choices: ['tables', 'transcripts'] as const, default: 'tables' as const, describe: 'tables: the database tables; transcripts: the messages for an archive (docs/reports.md)' })
          .option('db', { type: 'string', describe: 'the database file (default: $IMTAP_DB, else ./imtap.duckdb)' })
          .option('format', { choices: ['parquet', 'csv', 'arrow', 'jsonl', 'eml'] as const, demandOption: true, describe: 'file format: parquet, csv, arrow (tables); jsonl, eml (transcripts)' })
          .option('out', { type: 'string', demandOption: true, describe: 'directory to write <table>.<format> into (created if needed); transcripts: a new or empty directory' })
          .option('table', { type: 'string', describe: 'only this table (default: all: captures, flows, accounts, messages, transfers, contacts, anomalies)' })
          .option('since', { type: 'string', describe: 'transcripts: messages from this time (ISO 8601 date or date-time, UTC unless an offset is given)' })
          .option('until', { type: 'string', describe: 'transcripts: messages before this time (excluded)' })
          .option('app', { type: 'string', array: true, describe: 'transcripts: only these apps (repeatable, or comma-separated)' })
          .example('$0 export --format parquet --out archive/2026-11', 'every table as Parquet')
          .example('$0 export --format arrow --table flows --out /tmp/x', 'flows as an Arrow IPC file')
          .example('$0 export transcripts --format jsonl --since 2026-11-01 --until 2026-12-01 --out audit/2026-11', 'a month of messages for an auditor; check with imtap verify audit/2026-11'),
      async (args) => {
        const { defaultDb } = await import('./ingest.js');
        const transcriptFormat = args.format === 'jsonl' || args.format === 'eml';
        if (args.what === 'transcripts') {
          if (!transcriptFormat) throw new UsageError(`export transcripts writes --format jsonl or eml, not ${args.format}`);
          if (args.table !== undefined) throw new UsageError('export transcripts takes no --table');
          const { transcriptsCommand } = await import('./transcripts.js');
          code = await transcriptsCommand({ db: args.db ?? defaultDb(), format: args.format as 'jsonl' | 'eml', out: args.out as string, since: args.since ?? null, until: args.until ?? null, app: (args.app ?? []).map(String) }, { stdout: out, stderr: err });
          return;
        }
        if (transcriptFormat) throw new UsageError(`--format ${args.format} is for messages: imtap export transcripts --format ${args.format}`);
        if (args.since !== undefined || args.until !== undefined || args.app !== undefined) throw new UsageError('--since, --until and --app go with export transcripts');
        const { exportCommand } = await import('./export.js');
        code = await exportCommand({ db: args.db ?? defaultDb(), format: args.format as 'parquet' | 'csv' | 'arrow', out: args.out as string, table: args.table ?? null }, { stdout: out, stderr: err });
      },
    )
    .command(
      'verify <dir>',
      'Check a transcript export (imtap export transcripts): file hashes, every record, the hash chain; exit 5 when anything was changed, removed or added',
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true, describe: 'the export directory (with MANIFEST.json)' })
          .option('head', { type: 'string', describe: 'the chain head printed by the export and kept elsewhere: the manifest must end the chain there' })
          .example('$0 verify audit/2026-11', 'OK with the counts, or every problem and exit code 5')
          .example('$0 verify --head 3f1c…e9 audit/2026-11', 'also check the head kept apart from the export'),
      async (args) => {
        const { verifyCommand } = await import('./verify.js');
        code = await verifyCommand({ dir: args.dir as string, head: args.head ?? null }, { stdout: out, stderr: err });
      },
    )
    .command(
      'directory <action> [file]',
      'Who is who: import a CSV mapping accounts, addresses and MACs to people and departments, or list the directory',
      (y) =>
        y
          .positional('action', { choices: ['import', 'list'] as const, describe: 'import a CSV (person, department, account, app, ip, mac: docs/reports.md), or list the entries' })
          .positional('file', { type: 'string', describe: 'the CSV file (import)' })
          .option('db', { type: 'string', describe: 'the database file (default: $IMTAP_DB, else ./imtap.duckdb)' })
          .option('replace', { type: 'boolean', default: false, describe: 'import: first remove the entries imported before from the same file' })
          .option('format', { choices: ['table', 'csv', 'json', 'ndjson'] as const, default: 'table' as const, describe: 'list: output format' })
          .example('$0 directory import people.csv', 'add the entries of people.csv (exact duplicates are skipped)')
          .example('$0 directory import --replace people.csv', 'replace what people.csv said before')
          .example('$0 directory list --format csv', 'the directory as CSV'),
      async (args) => {
        const { directoryCommand } = await import('./directory.js');
        const { defaultDb } = await import('./ingest.js');
        if (args.action === 'import' && !args.file) throw new UsageError('directory import needs the CSV file');
        code = await directoryCommand({ action: args.action as 'import' | 'list', file: args.file ?? null, db: args.db ?? defaultDb(), replace: args.replace, format: args.format }, { stdout: out, stderr: err });
      },
    )
    .command(
      'alerts <action>',
      'Watchlist alerts: rescan the whole database with watchlist files (replacing their earlier alerts)',
      (y) =>
        y
          .positional('action', { choices: ['rescan'] as const, describe: 'rescan: match every message and file name again' })
          .option('db', { type: 'string', describe: 'the database file (default: $IMTAP_DB, else ./imtap.duckdb)' })
          .option('watchlist', { type: 'string', demandOption: true, describe: 'watchlist file (docs/reports.md); repeatable' })
          .option('fail-on-alert', { type: 'boolean', default: false, describe: 'exit with code 4 when the rescan found hits' })
          .example('$0 alerts rescan --watchlist policy/watch.txt', 'alerts of that watchlist recomputed over every capture'),
      async (args) => {
        const { alertsCommand } = await import('./alerts.js');
        const { defaultDb } = await import('./ingest.js');
        code = await alertsCommand({ db: args.db ?? defaultDb(), watchlist: ([] as (string | undefined)[]).concat(args.watchlist).filter((r): r is string => typeof r === 'string'), failOnAlert: args['fail-on-alert'] }, { stdout: out, stderr: err });
      },
    )
    .command(
      'report <name>',
      'Print a report over the database (read-only): summary, users, apps, accounts, conversations, messages, transfers, alerts, timeline',
      (y) =>
        y
          // The same names as REPORT_NAMES of src/report/run.ts (a test checks), listed here so that --help loads no report code.
          .positional('name', { choices: ['summary', 'users', 'apps', 'accounts', 'conversations', 'messages', 'transfers', 'alerts', 'timeline'] as const, demandOption: true, describe: 'the report (docs/reports.md)' })
          .option('db', { type: 'string', describe: 'the database file (default: $IMTAP_DB, else ./imtap.duckdb)' })
          .option('since', { type: 'string', describe: 'from this time: ISO 8601 (UTC unless an offset is given) or before now (90m, 24h, 7d, 2w)' })
          .option('until', { type: 'string', describe: 'up to this time (excluded), same forms as --since' })
          .option('app', { type: 'string', array: true, describe: 'only these apps (repeatable, or comma-separated)' })
          .option('user', { type: 'string', describe: 'only this person (directory), account or client address' })
          .option('department', { type: 'string', describe: 'only the people of this department (directory)' })
          .option('sensor', { type: 'string', describe: 'only captures from this sensor (ingest --sensor)' })
          .option('grep', { type: 'string', describe: 'messages: text containing this (any case)' })
          .option('regex', { type: 'string', describe: 'messages: text matching this regular expression (RE2)' })
          .option('limit', { type: 'number', describe: 'conversations: how many (default 20); messages, transfers, alerts: rows (default 1000)' })
          .option('format', { choices: ['table', 'csv', 'json', 'ndjson', 'md', 'html'] as const, default: 'table' as const, describe: 'output format' })
          .option('out', { type: 'string', describe: 'write to this file (replaced atomically) instead of standard output' })
          .option('fail-on-alert', { type: 'boolean', default: false, describe: 'exit with code 4 when the period and filters hold watchlist alerts' })
          .example('$0 report summary --since 7d', 'the last week at a glance')
          .example('$0 report messages --grep invoice --app msn --format csv --out hits.csv', 'messages containing "invoice"')
          .example('$0 report users --department Sales --since 2024-05-01 --until 2024-06-01 --format html --out may.html', 'a month of one department'),
      async (args) => {
        const { reportCommand } = await import('./report.js');
        const { defaultDb } = await import('./ingest.js');
        code = await reportCommand(
          {
            name: args.name,
            db: args.db ?? defaultDb(),
            since: args.since ?? null,
            until: args.until ?? null,
            app: (args.app ?? []).map(String),
            user: args.user ?? null,
            department: args.department ?? null,
            sensor: args.sensor ?? null,
            grep: args.grep ?? null,
            failOnAlert: args['fail-on-alert'],
            regex: args.regex ?? null,
            limit: args.limit ?? null,
            format: args.format,
            out: args.out ?? null,
          },
          { stdout: out, stderr: err },
        );
      },
    )
    .command(
      'live',
      'Capture live from an interface (SPAN port, tap) through tcpdump and keep the database current; runs until stopped (docs/live.md)',
      (y) =>
        y
          .option('interface', { alias: 'i', type: 'string', demandOption: true, describe: 'the interface to capture on (ip link lists them)' })
          .option('bpf', { type: 'string', describe: 'a capture filter (BPF, as for tcpdump), e.g. "tcp or udp"' })
          .option('snaplen', { type: 'number', default: 262144, describe: 'bytes kept of each packet' })
          .option('db', { type: 'string', describe: 'the database file (default: $IMTAP_DB, else ./imtap.duckdb); opened only while flushing' })
          .option('sensor', { type: 'string', describe: 'name of this sensor (reports: --sensor)' })
          .option('duration', { type: 'string', describe: 'stop after this long (30s, 15m, 1h, 2d); default: until SIGINT/SIGTERM' })
          .option('flush-every', { type: 'string', default: '5s', describe: 'write to the database this often (a crash loses at most this much)' })
          .option('save-pcap', { type: 'string', describe: 'also write the packets to rotating pcap files in this directory' })
          .option('rotate', { type: 'string', describe: 'with --save-pcap: start a new file at this size (100MB, 1GiB) or age (15m, 1h)' })
          .option('keep', { type: 'number', describe: 'with --save-pcap: keep at most this many files (the oldest are removed)' })
          .option('rules', { type: 'string', describe: 'app rules file (docs/rules.md) taking precedence over the built-in ones; repeatable' })
          .option('tool', { choices: ['tcpdump', 'dumpcap'] as const, default: 'tcpdump' as const, describe: 'the capture program (it holds the capture privilege; imtap does not)' })
          .example('$0 live -i span0 --sensor hq --db /var/lib/imtap/imtap.duckdb', 'a sensor on the mirrored port span0')
          .example('$0 live -i eth1 --bpf "not port 22" --save-pcap /var/lib/imtap/pcap --rotate 1h --keep 48', 'also keep two days of hourly pcaps')
          .example('$0 live -i eth0 --duration 10m --flush-every 2s', 'ten minutes, then stop'),
      async (args) => {
        const { liveCommand } = await import('./live.js');
        const { defaultDb } = await import('./ingest.js');
        code = await liveCommand(
          {
            iface: String(args.interface),
            bpf: args.bpf ?? null,
            snaplen: args.snaplen,
            db: args.db ?? defaultDb(),
            sensor: args.sensor ?? null,
            duration: args.duration ?? null,
            flushEvery: args['flush-every'],
            savePcap: args['save-pcap'] ?? null,
            rotate: args.rotate ?? null,
            keep: args.keep ?? null,
            rules: ([] as (string | undefined)[]).concat(args.rules).filter((r): r is string => typeof r === 'string'),
            tool: args.tool,
          },
          { stdout: out, stderr: err },
        );
      },
    )
    .demandCommand(1, 'Name a command: imtap inspect <capture>…  (imtap --help lists them)')
    .epilog('Exit codes: 0 done, 1 error (an input unreadable), 2 wrong usage, 3 an input was damaged (the good packets were still processed), 4 watchlist hits (with --fail-on-alert), 5 verify found an export not intact, 6-8 live: no tcpdump, no such interface, no capture permission. See docs/cli.md.')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, e) => {
      if (e && !(e instanceof UsageError)) throw e;
      throw new UsageError(msg ?? e?.message ?? 'bad usage');
    });
  try {
    let helpText = '';
    await parser.parseAsync(argv, {}, (_e, _argv, output) => {
      helpText = output;
    });
    if (helpText) out.write(helpText + '\n');
    out.flush?.();
    return code;
  } catch (e) {
    if (e instanceof UsageError) {
      out.flush?.();
      err.write(`imtap: ${e.message}\n(run imtap --help for usage)\n`);
      return EXIT.USAGE;
    }
    out.flush?.();
    err.write(`imtap: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.ERROR;
  }
}

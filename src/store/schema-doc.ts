/**
 * docs/schema.md, rendered from TABLES: one Markdown table per table (column, type, null?, meaning). Written by
 * `npm run docs:schema` (scripts/gen-schema-doc.mjs); test/store/schema-doc.test.ts fails when the file in the
 * repository is not what this renders now, so the documentation cannot fall behind the schema.
 */
import { SCHEMA_VERSION, TABLES, type TableDef } from './schema.js';

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderSchemaDoc(tables: readonly TableDef[] = TABLES, version = SCHEMA_VERSION): string {
  const out: string[] = [
    '# Storage schema',
    '',
    '<!-- Generated from src/store/schema.ts by `npm run docs:schema`; do not edit by hand. -->',
    '',
    `Schema version ${version}. imtap stores what it finds in one DuckDB file. Every table except \`captures\` and`,
    '`schema_version` starts with a timestamp (`ts`, or `ts_start` for flows), `capture_id` and `flow_id`, so any row',
    'leads back to its capture and its packets; a flow is identified by (`capture_id`, `flow_id`). Timestamps are',
    'TIMESTAMP_NS in UTC at the full precision of the capture. Text is UTF-8: a lone UTF-16 surrogate in a decoded',
    'string is stored as U+FFFD; NUL and control characters are kept as they are.',
    '',
    'A file written by an older imtap is migrated when opened; a file from a newer imtap is refused.',
    '',
    'Tables: ' + tables.map((t) => `[${t.name}](#${t.name})`).join(', ') + '.',
  ];
  for (const t of tables) {
    out.push('', `## ${t.name}`, '', cell(t.doc), '', '| column | type | null? | meaning |', '| --- | --- | --- | --- |');
    for (const c of t.columns) {
      const values = c.values === undefined ? '' : ` One of: ${c.values.map((v) => `\`${v}\``).join(', ')}.`;
      out.push(`| \`${c.name}\` | ${c.type} | ${c.nullable ? 'yes' : 'no'} | ${cell(c.doc)}${values} |`);
    }
  }
  return out.join('\n') + '\n';
}

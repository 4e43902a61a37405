/**
 * Schema migrations: how a file written by an older imtap is brought to SCHEMA_VERSION. Each step goes from one
 * version to the next and is applied, with every other step needed, in one transaction when the file is opened
 * (`openStore` in db.ts), so a file is either at its old version or at the new one, never between.
 *
 * To change the schema: edit TABLES, bump SCHEMA_VERSION, append `{ from: old, to: old + 1, statements }` here with
 * the ALTER/CREATE statements that turn the old tables into the new ones (the test of `openStore` checks the result
 * against TABLES), and regenerate docs/schema.md.
 */
import { addColumnStatements, tableDef, tableStatements } from './schema.js';

export interface Migration {
  from: number;
  to: number;
  statements: readonly string[];
}

/**
 * 1 → 2: the IM analyzers' columns (flows: encrypted; accounts: server, login, auth, side; messages: kind, subject, thread;
 * transfers: method; contacts: state) and the `events` table.
 */
const V1_TO_V2: Migration = {
  from: 1,
  to: 2,
  statements: [
    ...addColumnStatements('flows', 'encrypted'),
    ...addColumnStatements('accounts', 'server'),
    ...addColumnStatements('accounts', 'login'),
    ...addColumnStatements('accounts', 'auth'),
    ...addColumnStatements('accounts', 'side'),
    ...addColumnStatements('messages', 'kind'),
    ...addColumnStatements('messages', 'subject'),
    ...addColumnStatements('messages', 'thread'),
    ...addColumnStatements('transfers', 'method'),
    ...addColumnStatements('contacts', 'state'),
    ...tableStatements(tableDef('events')),
  ],
};

/** 2 → 3: the evidence tables of the encrypted-app analyzers (tls, dns, http). Column docs of flows changed (comments only). */
const V2_TO_V3: Migration = {
  from: 2,
  to: 3,
  statements: [...tableStatements(tableDef('tls')), ...tableStatements(tableDef('dns')), ...tableStatements(tableDef('http'))],
};

/** 3 → 4: the policy tables of the reports (directory, alerts). */
const V3_TO_V4: Migration = {
  from: 3,
  to: 4,
  statements: [...tableStatements(tableDef('directory')), ...tableStatements(tableDef('alerts'))],
};

/** 4 → 5: the live capture's figures per flush (capture_stats). */
const V4_TO_V5: Migration = {
  from: 4,
  to: 5,
  statements: [...tableStatements(tableDef('capture_stats'))],
};

/** Version 1 is the first schema. */
export const MIGRATIONS: readonly Migration[] = [V1_TO_V2, V2_TO_V3, V3_TO_V4, V4_TO_V5];

/**
 * The steps from `from` to `to`, in order. Throws when a step is missing or a step does not go up by one, naming
 * the versions, so that a gap in the list is found at the first open rather than leaving a file half-migrated.
 */
export function migrationPath(migrations: readonly Migration[], from: number, to: number): Migration[] {
  for (const m of migrations) {
    if (m.to !== m.from + 1) throw new Error(`migration from version ${m.from} to ${m.to}: a step must go up by exactly one version`);
  }
  const steps: Migration[] = [];
  for (let v = from; v < to; v++) {
    const step = migrations.filter((m) => m.from === v);
    if (step.length !== 1) {
      throw new Error(
        `${step.length === 0 ? 'no' : step.length} migration${step.length === 0 ? '' : 's'} from schema version ${v} ` +
          `(needed to go from ${from} to ${to}; steps known: ${migrations.map((m) => `${m.from}→${m.to}`).join(', ') || 'none'})`,
      );
    }
    steps.push(step[0]!);
  }
  return steps;
}

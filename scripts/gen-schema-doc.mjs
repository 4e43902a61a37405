// Writes docs/schema.md from the tables declared in src/store/schema.ts (through the built dist/, so run after
// `npm run build`; `npm run docs:schema` does both). With --check it writes nothing and exits 1 when the file differs.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { renderSchemaDoc } = await import(path.join(root, 'dist/src/store/schema-doc.js'));
const target = path.join(root, 'docs/schema.md');
const text = renderSchemaDoc();
if (process.argv.includes('--check')) {
  const now = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (now !== text) {
    console.error(`${path.relative(process.cwd(), target)} is out of date: run npm run docs:schema`);
    process.exit(1);
  }
} else {
  fs.writeFileSync(target, text);
  console.log(`wrote ${path.relative(process.cwd(), target)} (${text.length} bytes)`);
}

/**
 * `import { z } from 'zod'` pulls all of zod's locales into a Lambda bundle (~350 KB more than
 * `import * as z from 'zod'`, measured by `npm run bench`, row 7). Keep every shipped module on
 * the namespace import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

it('shipped code imports zod as a namespace', () => {
  const offenders = ['core', 'app', 'adapters', 'lambdas']
    .flatMap((d) => tsFiles(join(root, d)))
    .filter((f) => /import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*'zod'/.test(readFileSync(f, 'utf8')));
  expect(offenders).toEqual([]);
});

#!/usr/bin/env node
// `npx scherp …`: runs the TypeScript command line (local/cli.ts) through tsx (resolved from
// here, so it works from any working folder).
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const cli = join(__dirname, '..', 'local', 'cli.ts');
if (!existsSync(cli)) {
  // The npm package holds the CDK construct only (package.json `files`); the local runtime and
  // its tools (tsx, DynamoDB Local) come with a clone of the repository.
  console.error(
    'scherp: the local runtime runs from a clone of the Scherp repository (npm start there); this installed package holds the CDK construct only.',
  );
  process.exit(1);
}
const tsx = pathToFileURL(require.resolve('tsx', { paths: [join(__dirname, '..')] })).href;
const r = spawnSync(process.execPath, ['--import', tsx, cli, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);

#!/usr/bin/env node
// `npx scherp …`: runs the TypeScript command line (local/cli.ts) through tsx (resolved from
// here, so it works from any working folder).
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const tsx = pathToFileURL(require.resolve('tsx', { paths: [join(__dirname, '..')] })).href;
const r = spawnSync(process.execPath, ['--import', tsx, join(__dirname, '..', 'local', 'cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);

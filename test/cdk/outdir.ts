/**
 * Every `App` of a CDK test file synthesizes into one temporary folder that is removed after
 * the file (an App without `outdir` otherwise makes a new `cdk.out*` folder in the temporary
 * directory on every synth and leaves it there). `App` reads its default outdir from
 * `CDK_OUTDIR`; jest runs each file in its own module registry, so each file gets its own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'scherp-cdk-test-'));
process.env.CDK_OUTDIR = outdir;
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

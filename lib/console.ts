import { copyFileSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CONSOLE_ASSETS_FOLDER, CONSOLE_PAGE } from '../lambdas/console/serve';
import { CONSOLE_DIR, esbuildConsoleOptions, esbuildOptions } from './bundling';
import {
  createScherpFunction,
  type FunctionCodeSource,
  type FunctionSizing,
  functionCodeSource,
  LAMBDAS_DIR,
  type ScherpLogLevel,
} from './scherp-function';

/** Properties of {@link ScherpConsole}. */
export interface ScherpConsoleProps {
  readonly sizing: FunctionSizing;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: ScherpLogLevel;
}

/**
 * The console in the cloud: the `console` function, which serves the built console (its page
 * for every path, its assets, the same CSP as `npm start`) behind `GET /console` and
 * `GET /console/{proxy+}` of the HTTP API (added by `ScherpApi`), so the console and the API
 * share an origin. Its role may write its own logs and nothing else: no table, no secret (the
 * browser sends the key to the API itself).
 */
export class ScherpConsole extends Construct {
  public readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: ScherpConsoleProps) {
    super(scope, id);
    this.function = createScherpFunction(this, 'Function', {
      name: 'console',
      sizing: props.sizing,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      invocation: 'api',
      code: consoleCodeSource(),
    });
  }
}

/**
 * The function's code: the handler and the built console next to it (`console/`). Compiled (the
 * installed package), the package build's `dist/bundles/console/` as it is; from the sources,
 * both are bundled by esbuild at synth (in process, with the options of `lib/bundling.ts`), and
 * not at all when the stack's bundling is skipped (`aws:cdk:bundling-stacks`).
 */
export function consoleCodeSource(compiled = !__filename.endsWith('.ts')): FunctionCodeSource {
  if (compiled) return functionCodeSource('console', true);
  const entry = path.join(LAMBDAS_DIR, 'console', 'index.ts');
  return {
    handler: 'index.handler',
    code: lambda.Code.fromAsset(path.dirname(entry), {
      // The output's hash: the console's sources live outside the handler's folder.
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never used: local bundling (esbuild, a dev dependency here) always answers.
        image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
        local: {
          tryBundle(outputDir: string): boolean {
            writeConsoleFunction(entry, outputDir);
            return true;
          },
        },
      },
    }),
  };
}

/** Bundles the handler to `outputDir/index.js` and the console into `outputDir/console/`. */
export function writeConsoleFunction(entry: string, outputDir: string): void {
  // Loaded here only: the installed package deploys its pre-built bundle and has no esbuild.
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync(esbuildOptions(entry, path.join(outputDir, 'index.js')));
  const assets = path.join(outputDir, CONSOLE_ASSETS_FOLDER);
  esbuild.buildSync({ ...esbuildConsoleOptions(), outdir: assets });
  copyFileSync(path.join(CONSOLE_DIR, CONSOLE_PAGE), path.join(assets, CONSOLE_PAGE));
}

import { existsSync, readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { CONFIG_FILE } from '../core/config';
import { addNagChecks } from '../lib/nag-packs';
import { ScherpStack } from '../lib/scherp-stack';

const app = new App();
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
// The same `scherp.config.json` that `npm start` reads configures the deployed functions.
const config = existsSync(CONFIG_FILE) ? JSON.parse(readFileSync(CONFIG_FILE, 'utf8')) : undefined;
new ScherpStack(app, 'Scherp', { ...(account || region ? { env: { account, region } } : {}), ...(config ? { platform: { config } } : {}) });
// Every AwsSolutions / Serverless finding that is not acknowledged in code fails `cdk synth`.
addNagChecks(app);

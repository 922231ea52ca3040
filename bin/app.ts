import { App } from 'aws-cdk-lib';
import { addNagChecks } from '../lib/nag';
import { ScherpStack } from '../lib/scherp-stack';

const app = new App();
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
new ScherpStack(app, 'Scherp', account || region ? { env: { account, region } } : {});
// Every AwsSolutions / Serverless finding that is not acknowledged in code fails `cdk synth`.
addNagChecks(app);

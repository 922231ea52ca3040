import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CustomerDataPlatform } from '../../lib/customer-data-platform';
import { actionsOf, leadingKeysOf, functionProps, synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp();
  template = synth.template;
});

describe('file import (drop bucket)', () => {
  const id = (c: { node: { defaultChild?: unknown } }) => synth.stack.getLogicalId(c.node.defaultChild as never);

  test('bucket: private, encrypted, SSL only, files and reports expire after 30 days, retained', () => {
    const bucket = template.toJSON().Resources[id(synth.stack.platform.fileImport.bucket)];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Prefix: 'imports/', ExpirationInDays: 30, Status: 'Enabled' }),
        expect.objectContaining({ Prefix: 'reports/', ExpirationInDays: 30, Status: 'Enabled' }),
      ]),
    );
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  test('new objects under imports/ notify the import queue, which feeds fileImport one job at a time', () => {
    const fi = synth.stack.platform.fileImport;
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: id(fi.bucket) },
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            QueueArn: { 'Fn::GetAtt': [id(fi.queue), 'Arn'] },
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'imports/' }] } },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(fi.function) },
      EventSourceArn: { 'Fn::GetAtt': [id(fi.queue), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // A job may run the whole 15 minutes; the queue hides it six times as long, then dead-letters after 3 receives.
    expect(functionProps(synth, fi.function).Timeout).toBe(900);
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 5400,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [id(fi.deadLetterQueue), 'Arn'] }, maxReceiveCount: 3 },
    });
  });

  test('fileImport: reads (and lists) imports/*, writes reports/*, sends to the import and ingest queues, reads the sources; nothing else', () => {
    const fi = synth.stack.platform.fileImport;
    const { actions, resources } = actionsOf(synth, fi.function);
    expect([...new Set(actions)].sort()).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:Query',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(resources).toEqual(
      expect.arrayContaining([
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(fi.bucket), 'Arn'] }, '/imports/*']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(fi.bucket), 'Arn'] }, '/reports/*']] },
      ]),
    );
    expect(leadingKeysOf(synth, fi.function)).toEqual([['SOURCES']]);
  });

  test('an existing bucket is used instead of a new one; retention is validated', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Own');
    const bucket = new s3.Bucket(stack, 'Mine');
    const platform = new CustomerDataPlatform(stack, 'P', { importBucket: bucket });
    expect(platform.fileImport.bucket).toBe(bucket);
    const t = Template.fromStack(stack);
    // No import bucket of its own: the given one and the jobs bucket (export files) only.
    t.resourceCountIs('AWS::S3::Bucket', 2);
    expect(Object.keys(t.findResources('AWS::S3::Bucket')).sort()).toEqual(
      [
        stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket),
        stack.getLogicalId(platform.jobs.bucket.node.defaultChild as s3.CfnBucket),
      ].sort(),
    );
    t.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket) },
    });
    expect(() => new CustomerDataPlatform(new Stack(app, 'Bad'), 'P', { importRetentionDays: 0 })).toThrow(
      /importRetentionDays must be an integer from 1/,
    );
  });
});

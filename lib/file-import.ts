import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IMPORT_BUCKET_ACCESS, IMPORTS_PREFIX, REPORTS_PREFIX } from '../core/import-job';
import { ENV } from '../lambdas/shared/env';
import { ack } from './nag';
import { queueWithDeadLetters } from './queues';
import { createScherpFunction, type FunctionSizing, type ScherpLogLevel } from './scherp-function';

/** Properties of {@link ScherpFileImport}. */
export interface ScherpFileImportProps {
  /**
   * The bucket to import from; the construct adds a notification for `imports/` to it.
   * @default - a new private, encrypted, SSL-only bucket
   */
  readonly bucket?: s3.IBucket;
  /**
   * Days files and reports stay in a bucket the construct creates (not applied to `bucket`).
   * @default 30
   */
  readonly retentionDays?: number;
  /** What happens to a created bucket when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** The queue imported rows are sent to (Scherp's ingest queue). */
  readonly ingestQueue: sqs.IQueue;
  /** Memory and timeout of the function (the queue's visibility timeout follows the timeout). */
  readonly sizing: FunctionSizing;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: ScherpLogLevel;
  /** Further environment of the function (table name, configuration). */
  readonly environment: Record<string, string>;
  /**
   * Receives of an import job before it goes to the dead-letter queue.
   * @default 3
   */
  readonly maxReceiveCount?: number;
}

/**
 * Files dropped into a bucket under `imports/<source>/` (CSV, NDJSON) are imported as that
 * source's traits: `S3 ObjectCreated → import queue → fileImport`, which reads each file with
 * ranged reads, queues its rows for `stitch` in chunks of 1,000, sends itself a continuation job
 * before its time runs out, and writes `reports/<source>/<name>.json`.
 */
export class ScherpFileImport extends Construct {
  /** The bucket files are dropped into. */
  public readonly bucket: s3.IBucket;
  /** Bucket notifications and continuation jobs. */
  public readonly queue: sqs.Queue;
  /** Import jobs that failed `maxReceiveCount` times. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The importer. */
  public readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: ScherpFileImportProps) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? 30;
    if (!Number.isInteger(retentionDays) || retentionDays < 1)
      throw new Error(`importRetentionDays must be a positive integer (got ${retentionDays})`);

    this.bucket =
      props.bucket ??
      new s3.Bucket(this, 'Bucket', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        lifecycleRules: [
          { prefix: IMPORTS_PREFIX, expiration: Duration.days(retentionDays), abortIncompleteMultipartUploadAfter: Duration.days(1) },
          { prefix: REPORTS_PREFIX, expiration: Duration.days(retentionDays) },
        ],
      });

    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = queueWithDeadLetters(this, 'Queue', {
      consumerTimeout: props.sizing.timeout,
      maxReceiveCount: props.maxReceiveCount ?? 3,
      deadLetterReason: 'This queue is itself the dead-letter queue of the import queue; it has nowhere further to redrive to.',
    }));
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), { prefix: IMPORTS_PREFIX });

    this.function = createScherpFunction(this, 'Function', {
      name: 'fileImport',
      invocation: 'queue',
      sizing: props.sizing,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      environment: {
        ...props.environment,
        [ENV.IMPORT_BUCKET]: this.bucket.bucketName,
        [ENV.IMPORT_QUEUE_URL]: this.queue.queueUrl,
        [ENV.QUEUE_URL]: props.ingestQueue.queueUrl,
      },
    });
    // One job per invocation: a job may run for the whole timeout.
    this.function.addEventSource(new SqsEventSource(this.queue, { batchSize: 1, reportBatchItemFailures: true }));
    // Read files under imports/, write reports under reports/; nothing else in the bucket (the
    // local bucket enforces the same IMPORT_BUCKET_ACCESS).
    const access = IMPORT_BUCKET_ACCESS;
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${access.read}*`)] }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects(`${access.write}*`)] }),
    );
    // Listing the prefix makes S3 answer 404 rather than 403 for a file deleted before its import.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${access.list}*`] } },
      }),
    );
    this.bucket.encryptionKey?.grantEncryptDecrypt(this.function);
    this.queue.grantSendMessages(this.function);
    props.ingestQueue.grantSendMessages(this.function);
    this.acknowledgeNagFindings(props.bucket === undefined);
  }

  /** Justified acknowledgments of cdk-nag findings on what this construct adds. */
  private acknowledgeNagFindings(createdBucket: boolean): void {
    const policy = this.function.role!.node.findChild('DefaultPolicy');
    const prefixes = [IMPORTS_PREFIX, REPORTS_PREFIX];
    const why =
      'Object permissions are limited to one prefix of the import bucket: GetObject on imports/* (the files to import), PutObject on reports/* (one report per file).';
    if (createdBucket) {
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
      for (const prefix of prefixes) ack(policy, `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`, why);
      ack(
        this.bucket,
        'AwsSolutions-S1',
        'Files stay only until imported (lifecycle expiry) and are written and read by the deployer and the importer alone; object access can be audited with CloudTrail data events. Pass your own importBucket to add server access logging.',
      );
    } else {
      ack(policy, 'AwsSolutions-IAM5', why);
    }
    const mapping = this.function.node.findAll().find((c) => c.node.id.startsWith('SqsEventSource'))!.node.defaultChild!;
    ack(
      mapping,
      'Serverless-LambdaEventSourceMappingDestination',
      "SQS event-source mappings do not support on-failure destinations; failed import jobs go to the import queue's dead-letter queue through its redrive policy.",
    );

    // The stack-level function CDK adds to configure bucket notifications at deploy time.
    const stack = Stack.of(this);
    const handler = stack.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (handler) {
      ack(
        handler,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'CDK-managed singleton function that sets the bucket notification during deployments only; its role is created by CDK with the basic execution policy.',
      );
    }
  }
}

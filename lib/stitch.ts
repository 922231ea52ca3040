import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/env';
import { bindBus, bindQueue, bindSettings, bindTable } from './bind';
import { ack } from './nag';
import { createScherpFunction, type FunctionSizing, type ScherpLogLevel } from './scherp-function';

/** SQS batches are cut after this long even when `batchSize` is not reached. */
export const STITCH_BATCHING_WINDOW = Duration.seconds(1);

/** Properties of {@link ScherpStitch}. */
export interface ScherpStitchProps {
  readonly table: dynamodb.ITableV2;
  /** The ingest queue and its dead-letter queue (`ScherpIngest`). */
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** The bus `Profile Merged` and other identity events go to. */
  readonly bus: events.IEventBus;
  readonly sizing: FunctionSizing;
  readonly maxReceiveCount: number;
  readonly batchSize: number;
  readonly maxConcurrency: number;
  readonly eventRetentionDays: number;
  readonly dedupeWindowDays: number;
  /** `SCHERP_CONFIG` (identifier types, merge protection), when given. */
  readonly configEnvironment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: ScherpLogLevel;
}

/** The identity stage: `stitch` reads the ingest queue, resolves identities and writes profiles and timelines. */
export class ScherpStitch extends Construct {
  public readonly stitch: NodejsFunction;

  constructor(scope: Construct, id: string, props: ScherpStitchProps) {
    super(scope, id);
    const stitch = createScherpFunction(this, 'Stitch', {
      name: 'stitch',
      sizing: props.sizing,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      environment: props.configEnvironment,
      invocation: 'queue',
    });
    // Item reads and writes (no table administration), put actions.
    bindTable(stitch, props.table, 'readWrite');
    bindBus(stitch, props.bus);
    // On the last receive stitch moves a failing message to the DLQ itself, with the reason.
    bindQueue(stitch, props.deadLetterQueue, { url: ENV.DEAD_LETTER_QUEUE_URL }, 'send');
    bindSettings(stitch, {
      [ENV.MAX_RECEIVE_COUNT]: props.maxReceiveCount,
      [ENV.EVENT_RETENTION_DAYS]: props.eventRetentionDays,
      [ENV.DEDUPE_WINDOW_DAYS]: props.dedupeWindowDays,
    });
    stitch.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: props.batchSize,
        maxBatchingWindow: STITCH_BATCHING_WINDOW,
        maxConcurrency: props.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    ack(
      stitch.node.findAll().find((c) => c instanceof lambda.CfnEventSourceMapping)!,
      'Serverless-LambdaEventSourceMappingDestination',
      "SQS event-source mappings do not support on-failure destinations; failed messages go to the ingest queue's dead-letter queue through its redrive policy.",
    );
    this.stitch = stitch;
  }
}

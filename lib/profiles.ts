import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AUDIENCE_PK_PREFIX, DEBUG_PK_PREFIX, keys, REJECTED_PK_PREFIX, STATS_PK_PREFIX } from '../adapters/dynamo/keys';
import { ENV } from '../lambdas/shared/env';
import { bindSecret, bindSettings, bindTable } from './bind';
import type { ScherpSecrets } from './keys';
import { apiFunctionMaker, type FunctionSizing, type ScherpLogLevel } from './scherp-function';

/** Properties of {@link ScherpProfiles}. */
export interface ScherpProfilesProps {
  readonly table: dynamodb.ITableV2;
  readonly secrets: ScherpSecrets;
  readonly sizing: { readonly profile: FunctionSizing; readonly context: FunctionSizing; readonly insights: FunctionSizing };
  /** Erasure and export search the retained days of rejected events. */
  readonly rejectedRetentionDays: number;
  /** The erasure answer names the stores it cannot reach with their bounds. */
  readonly archiveRetentionDays: number;
  readonly importRetentionDays: number;
  readonly sourceRateLimit: number;
  readonly sourceBurstLimit: number;
  /** `SCHERP_CONFIG`, when given. */
  readonly configEnvironment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: ScherpLogLevel;
}

/**
 * The read side: `profile` (reads with the read key; export and erasure with the admin key),
 * `context` (the browser-safe `POST /v1/context` of the public write key, with a role of its own
 * that can only read what it serves) and `insights` (the console's debugger and overview).
 */
export class ScherpProfiles extends Construct {
  public readonly profile: NodejsFunction;
  public readonly context: NodejsFunction;
  public readonly insights: NodejsFunction;

  constructor(scope: Construct, id: string, props: ScherpProfilesProps) {
    super(scope, id);
    const { table, secrets } = props;
    const make = apiFunctionMaker<'profile' | 'context' | 'insights'>(this, props);

    // profile: reads, and erasure (DELETE /v1/profiles/…): batch deletes of the person's profile
    // partitions, identity items and rejected events naming them, and batch puts of suppression
    // markers, on those items only; the index entries of other profiles' events naming the person
    // (`FX#`) go too once those events are rewritten without the person's values (PutItem on P#).
    this.profile = make('profile', 'Profile', props.configEnvironment);
    bindTable(this.profile, table, 'read', {
      actions: ['dynamodb:BatchWriteItem'],
      leadingKeys: [
        keys.profile('*').pk,
        keys.identity('*', '*').pk,
        keys.suppressed('*').pk,
        `${REJECTED_PK_PREFIX}*`,
        `${DEBUG_PK_PREFIX}*`,
        keys.foreignMentions('*'),
      ],
    });
    // Erasure takes the person out of every audience (membership items put, counts updated).
    bindTable(
      this.profile,
      table,
      { actions: ['dynamodb:PutItem'], leadingKeys: [keys.profile('*').pk] },
      { actions: ['dynamodb:UpdateItem'], leadingKeys: [`${AUDIENCE_PK_PREFIX}*`] },
    );
    bindSecret(this.profile, ENV.READ_KEY_SECRET_ARN, secrets.readKey);
    bindSecret(this.profile, ENV.ADMIN_KEY_SECRET_ARN, secrets.adminKey);
    bindSettings(this.profile, {
      [ENV.REJECTED_RETENTION_DAYS]: props.rejectedRetentionDays,
      [ENV.ARCHIVE_RETENTION_DAYS]: props.archiveRetentionDays,
      [ENV.IMPORT_RETENTION_DAYS]: props.importRetentionDays,
    });

    // context (public write key): reads only, of what it serves: the visitor's identity item
    // (BatchGetItem), profile partitions (Query), write-key lookups (GetItem); the write key and
    // user-token secrets, per-source limits. No writes, no read or admin key.
    this.context = make('context', 'Context', props.configEnvironment);
    bindTable(
      this.context,
      table,
      { actions: ['dynamodb:BatchGetItem'], leadingKeys: [keys.identity('*', '*').pk] },
      { actions: ['dynamodb:Query'], leadingKeys: [keys.profile('*').pk] },
      { actions: ['dynamodb:GetItem'], leadingKeys: [keys.writeKey('*').pk] },
    );
    bindSecret(this.context, ENV.WRITE_KEY_SECRET_ARN, secrets.writeKey);
    bindSecret(this.context, ENV.USER_TOKEN_SECRET_ARN, secrets.userTokenSecret);
    bindSettings(this.context, { [ENV.SOURCE_RATE_LIMIT]: props.sourceRateLimit, [ENV.SOURCE_BURST_LIMIT]: props.sourceBurstLimit });

    // insights (console): the debugger session marker and entries (DBG#…), the hourly counters; the read and admin keys.
    this.insights = make('insights', 'Insights');
    bindTable(
      this.insights,
      table,
      { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], leadingKeys: [`${DEBUG_PK_PREFIX}*`] },
      { actions: ['dynamodb:Query'], leadingKeys: [`${STATS_PK_PREFIX}*`] },
    );
    bindSecret(this.insights, ENV.READ_KEY_SECRET_ARN, secrets.readKey);
    bindSecret(this.insights, ENV.ADMIN_KEY_SECRET_ARN, secrets.adminKey);
  }
}

import { CustomResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Construct } from 'constructs';
import { definitionDigests, digestOf } from '../core/computed-recompute';
import { parseConfig, type ScherpConfigInput } from '../core/config';
import type { ScherpJobs } from './jobs';

/** Properties of {@link ScherpComputedRecompute}. */
export interface ScherpComputedRecomputeProps {
  /** The jobs stage: its worker answers the custom resource and its state machine runs the job. */
  readonly jobs: ScherpJobs;
  /** The Scherp configuration deployed (its `computed` section is what the digest is made of). */
  readonly config?: ScherpConfigInput;
  /**
   * What must run the new definitions before the recompute starts (the evaluate function): a
   * profile recomputed while evaluate still applied the old ones would miss what it applied.
   */
  readonly after: readonly IConstruct[];
}

/**
 * Computed traits recomputed at deploy: a custom resource whose `Digest` is the digest of the
 * computed-trait definitions in the deployed config, served by the jobs worker. A deploy that
 * changes a definition changes the digest, CloudFormation sends an Update, and the worker starts
 * the `computed-recompute` job (Step Functions, `lib/jobs.ts`) when the definitions differ from
 * those the profiles reflect (digests stored in the table; `lambdas/jobs/computed-recompute.ts`).
 */
export class ScherpComputedRecompute extends Construct {
  public readonly resource: CustomResource;
  /** The digest of the definitions deployed. */
  public readonly digest: string;

  constructor(scope: Construct, id: string, props: ScherpComputedRecomputeProps) {
    super(scope, id);
    this.digest = digestOf(definitionDigests(parseConfig(props.config).computed));
    // The worker starts the job: PutEvents on the jobs bus (and its name in JOBS_BUS_NAME).
    props.jobs.grantLaunch(props.jobs.worker);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: props.jobs.worker.functionArn,
      resourceType: 'Custom::ScherpComputedRecompute',
      properties: { Digest: this.digest },
    });
    // Started only once the job's route to the state machine and evaluate's new definitions exist.
    this.resource.node.addDependency(props.jobs, ...props.after);
  }
}

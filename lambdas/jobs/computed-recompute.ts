/**
 * The deploy-time start of a computed-trait recompute: a CloudFormation custom resource
 * (`lib/computed-recompute.ts`) whose service token is the jobs worker. Its `Digest` property
 * is the digest of the computed-trait definitions in the deployed config, so a deploy that
 * changes them updates the resource; on Create and Update the worker compares the definitions
 * with the digests stored in the table and starts the `computed-recompute` job when they differ
 * (`app/computed-recompute.ts`), then answers CloudFormation at the pre-signed `ResponseURL`.
 * Delete does nothing. A failure to start answers FAILED (the deploy rolls back).
 */
import { request } from 'node:https';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { type SyncOutcome, syncComputedDefinitions } from '../../app/computed-recompute';
import type { ComputedDigestStore } from '../../app/computed-recompute';
import type { ComputedDefs } from '../../core/computed';
import type { JobLauncher, JobStore } from '../../app/ports';
import { errorFields, logger } from '../shared/observability';

/** The one physical id: an Update never replaces the resource. */
export const RECOMPUTE_RESOURCE_ID = 'scherp-computed-recompute';

export function isCustomResourceEvent(e: unknown): e is CloudFormationCustomResourceEvent {
  const v = e as Partial<CloudFormationCustomResourceEvent> | null;
  return typeof v === 'object' && v !== null && typeof v.RequestType === 'string' && typeof v.ResponseURL === 'string';
}

export interface RecomputeResourceDeps {
  readonly defs: ComputedDefs;
  readonly digests: ComputedDigestStore;
  readonly jobs: JobStore;
  readonly launcher: JobLauncher;
}

export interface CfnResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** PUTs the answer to the pre-signed S3 URL (no content type: it is not part of the signature). */
export function sendCfnResponse(url: string, body: CfnResponse): Promise<void> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(text) } }, (res) => {
      res.resume();
      res.on('end', () =>
        (res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`CloudFormation response refused: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end(text);
  });
}

export async function handleRecomputeResource(
  deps: RecomputeResourceDeps,
  event: CloudFormationCustomResourceEvent,
  respond: (url: string, body: CfnResponse) => Promise<void> = sendCfnResponse,
): Promise<CfnResponse> {
  const base = {
    PhysicalResourceId: RECOMPUTE_RESOURCE_ID,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  let answer: CfnResponse;
  if (event.RequestType === 'Delete') answer = { ...base, Status: 'SUCCESS', Reason: 'nothing to do' };
  else {
    try {
      const outcome: SyncOutcome = await syncComputedDefinitions(deps);
      logger.info('computed-trait definitions checked', {
        outcome: outcome.outcome,
        ...('jobId' in outcome ? { jobId: outcome.jobId } : {}),
      });
      answer = {
        ...base,
        Status: 'SUCCESS',
        Reason: outcome.outcome,
        Data: { Outcome: outcome.outcome, ...('jobId' in outcome ? { JobId: outcome.jobId } : {}) },
      };
    } catch (err) {
      logger.error('computed-trait recompute not started', errorFields(err));
      answer = { ...base, Status: 'FAILED', Reason: `computed-trait recompute not started: ${(err as Error).message}`.slice(0, 500) };
    }
  }
  await respond(event.ResponseURL, answer);
  return answer;
}

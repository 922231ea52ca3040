/**
 * Issue 18 item 5 in the stack: the example rule logs only the type and ids of bus events (no
 * user id, email, data or explanation in the log group), and the profile function knows the
 * bounds of the stores erasure cannot reach, to name them in its answer.
 */
import { Duration } from 'aws-cdk-lib';
import { cloudRetainedCopies } from '../../lambdas/profile/retained';
import { synthScherp } from './synth';

describe('copies outside the table', () => {
  const synth = synthScherp({ archiveRetention: Duration.days(10), importRetentionDays: 20, exampleLogTarget: true }, { nag: false });
  const resources = synth.template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;

  test('the example log group gets the type, event id, profile and dedupe ids of each bus event, nothing else', () => {
    const rule = Object.values(resources).find(
      (r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.Targets ?? []).includes('InputTransformer'),
    );
    expect(rule).toBeDefined();
    const transformer = rule!.Properties.Targets[0].InputTransformer;
    expect(Object.values(transformer.InputPathsMap).sort()).toEqual(
      ['$.detail-type', '$.detail.dedupeId', '$.detail.profileId', '$.id', '$.time'].sort(),
    );
    expect(JSON.stringify(transformer)).not.toMatch(/userId|email|\$\.detail"|\$\.detail\.data|explanation/);
  });

  test('the profile function gets the archive and import retention; the answer names every store erasure cannot reach with its bound', () => {
    const profile = Object.values(resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.ARCHIVE_RETENTION_DAYS,
    );
    expect(profile?.Properties.Environment.Variables).toMatchObject({ ARCHIVE_RETENTION_DAYS: '10', IMPORT_RETENTION_DAYS: '20' });
    expect(cloudRetainedCopies({ archive: 10, imports: 20 }).map((c) => [c.store, c.expiresWithin])).toEqual([
      ['EventBridge archive', '10 days'],
      ['ingest dead-letter queue', '14 days'],
      ['stream-failure queue', '14 days'],
      ['delayed-actions and destinations dead-letter queues', '14 days'],
      ['EventBridge Scheduler', 'the longest delay of your rules'],
      ['import bucket', '20 days'],
    ]);
  });
});

/**
 * Names and logical IDs that must not change when the code that makes a resource moves.
 *
 * The platform's stages (`lib/ingest.ts`, `lib/stitch.ts`, …) are constructs of their own, but
 * their resources were once direct children of the platform: {@link keepPlatformLogicalIds} gives
 * them the logical IDs they had then, so an existing deployment updates in place instead of
 * replacing its table's neighbours, queues, secrets (the keys) and API (its URL).
 */
import { createHash } from 'node:crypto';
import { CfnElement, Fn, Names, Stack } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';

/** The GUID of the stack's id (`arn:…:stack/<name>/<guid>`): new for every creation of the stack. */
export function stackGuid(scope: Construct): string {
  return Fn.select(2, Fn.split('/', Stack.of(scope).stackId));
}

/**
 * A physical name made from the path of the stage's parent (the platform), as it was before the
 * split, so a deployed bus, queue, schedule group or API keeps its name.
 */
export function platformResourceName(stage: Construct, maxLength: number): string {
  return Names.uniqueResourceName(stage.node.scope!, { separator: '-', maxLength });
}

/**
 * Every CloudFormation element under `stages` gets the logical ID it would have if the stages
 * were not in its path (as if their children were the parent's). Construct ids that embed
 * another construct's unique id (an SQS event source's `SqsEventSource:<queue id>`) get that
 * id as it was too. Call it once the stages and everything that adds to them (grants, routes)
 * exist, and before anything resolves their logical IDs. Duplicates (two stages with a child of
 * the same id) fail the synth: CloudFormation sections refuse a logical ID twice.
 */
export function keepPlatformLogicalIds(stages: readonly Construct[]): void {
  const hidden = new Set<IConstruct>(stages);
  const within = stages.flatMap((stage) => stage.node.findAll());
  // Unique ids (Names.nodeUniqueId: the path below the app) now and before the split.
  const renamed = new Map<string, string>();
  for (const c of within) {
    const ids = c.node.scopes.slice(1).map((s) => s.node.id);
    const flat = c.node.scopes
      .slice(1)
      .filter((s) => !hidden.has(s))
      .map((s) => s.node.id);
    if (flat.length > 0 && flat.length < ids.length) renamed.set(cdkLogicalId(ids), cdkLogicalId(flat));
  }
  const legacyId = (id: string) => {
    for (const [now, before] of renamed) if (id.includes(now)) return id.split(now).join(before);
    return id;
  };
  for (const c of within) {
    if (!CfnElement.isCfnElement(c)) continue;
    const stack = Stack.of(c);
    const scopes = c.node.scopes;
    const path = scopes
      .slice(scopes.indexOf(stack) + 1)
      .filter((s) => !hidden.has(s))
      .map((s) => legacyId(s.node.id));
    // A rename (not overrideLogicalId) so `stack.getLogicalId(c)` answers the kept ID too.
    const now = cdkLogicalId(scopes.slice(scopes.indexOf(stack) + 1).map((s) => s.node.id));
    stack.renameLogicalId(now, cdkLogicalId(path));
  }
}

/**
 * CloudFormation logical ID that CDK's `Stack.allocateLogicalId` gives a path of construct ids
 * below the stack: the ids without `Default` (and `Resource` in the readable part), repeated
 * suffixes dropped, non-alphanumerics removed, then the first 8 hex digits of the MD5 of the
 * path. The same algorithm as aws-cdk-lib's (it cannot change without replacing every deployed
 * resource); `test/cdk/naming.test.ts` compares the two.
 */
export function cdkLogicalId(pathIds: readonly string[]): string {
  const ids = pathIds.filter((x) => x !== 'Default');
  if (ids.length === 0) throw new Error('a logical ID needs at least one path component');
  const alnum = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');
  if (ids.length === 1 && alnum(ids[0]!).length <= 255) return alnum(ids[0]!);
  const hash = createHash('md5').update(ids.join('/')).digest('hex').slice(0, 8).toUpperCase();
  const human: string[] = [];
  for (const id of ids) if (human.length === 0 || !human[human.length - 1]!.endsWith(id)) human.push(id);
  return (
    human
      .filter((x) => x !== 'Resource')
      .map(alnum)
      .join('')
      .slice(0, 240) + hash
  );
}

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** True when a write was refused by its condition expression. */
export function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

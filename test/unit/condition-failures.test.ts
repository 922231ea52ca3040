/**
 * One `isConditionFailure` (adapters/dynamo/conditions.ts): a refused condition is an answer
 * (false: "no such source", "name taken"), a transaction cancelled for anything else (throttling,
 * a conflicting transaction, validation) is an error that reaches the caller as a retryable 500.
 * The source store on a fake client that cancels its transactions the way DynamoDB does.
 */
import { ConditionalCheckFailedException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, isConditionOrConflict, isTransactionConflict } from '../../adapters/dynamo/conditions';
import { SOURCE_SK_PREFIX, SOURCES_PK } from '../../adapters/dynamo/keys';
import { DynamoSourceStore } from '../../adapters/dynamo/source-store';
import { createSource, rotateKey } from '../../app/sources';
import { AlreadyExistsError } from '../../core/errors';
import type { Source, SourceKey } from '../../core/sources';
import { errorResponse } from '../../lambdas/shared/http';

const cancelled = (...codes: (string | undefined)[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => (Code === undefined ? {} : { Code })),
  });

describe('isConditionFailure', () => {
  test.each(
    (
      [
        [
          'ConditionalCheckFailedException',
          new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
          true,
        ],
        ['the same by name only (another SDK copy)', Object.assign(new Error('x'), { name: 'ConditionalCheckFailedException' }), true],
        ['a transaction cancelled for its condition', cancelled('ConditionalCheckFailed'), true],
        ['… with the other items fine', cancelled('None', 'ConditionalCheckFailed', undefined), true],
        ['a transaction cancelled for throttling', cancelled('ThrottlingError'), false],
        ['… for throttling of one item, the condition of another', cancelled('ConditionalCheckFailed', 'ThrottlingError'), false],
        ['… for a conflicting transaction', cancelled('TransactionConflict'), false],
        ['… for capacity', cancelled('None', 'ProvisionedThroughputExceeded'), false],
        ['… with no reasons', cancelled(), false],
        ['… with only None reasons', cancelled('None', 'None'), false],
        ['TransactionConflictException', new TransactionConflictException({ message: 'conflict', $metadata: {} }), false],
        ['a throttling error', Object.assign(new Error('slow down'), { name: 'ThrottlingException' }), false],
        ['undefined', undefined, false],
        ['null', null, false],
      ] as const
    ).map(([what, err, expected]) => [what, expected, err] as const),
  )('%s → %s', (_what, expected, err) => {
    expect(isConditionFailure(err)).toBe(expected);
  });

  test('a conflict is its own case: only TransactionConflict (with condition failures or None) is one', () => {
    expect(isTransactionConflict(cancelled('TransactionConflict'))).toBe(true);
    expect(isTransactionConflict(cancelled('None', 'TransactionConflict', 'ConditionalCheckFailed'))).toBe(true);
    expect(isTransactionConflict(new TransactionConflictException({ message: 'conflict', $metadata: {} }))).toBe(true);
    expect(isTransactionConflict(cancelled('TransactionConflict', 'ThrottlingError'))).toBe(false);
    expect(isTransactionConflict(cancelled('ConditionalCheckFailed'))).toBe(false);
    // The profile store's "re-read and try again": either one, never throttling.
    expect(isConditionOrConflict(cancelled('ConditionalCheckFailed'))).toBe(true);
    expect(isConditionOrConflict(cancelled('TransactionConflict'))).toBe(true);
    expect(isConditionOrConflict(cancelled('ThrottlingError'))).toBe(false);
  });
});

/** A document client whose transactions fail with the given errors in turn (then succeed); Queries find the source. */
function fakeClient(source: Source, transactErrors: unknown[]) {
  const sent: string[] = [];
  const doc = {
    send: async (cmd: { constructor: { name: string } }) => {
      const name = cmd.constructor.name;
      sent.push(name);
      if (name === 'TransactWriteCommand') {
        const err = transactErrors.shift();
        if (err) throw err;
        return {};
      }
      if (name === 'QueryCommand') return { Items: [{ pk: SOURCES_PK, sk: `${SOURCE_SK_PREFIX}${source.id}`, ...source }] };
      throw new Error(`unexpected ${name}`);
    },
  };
  return { doc: doc as unknown as DynamoDBDocumentClient, sent };
}

const source: Source = { id: 'src_0123456789abcdef', name: 'crm', party: 'second', createdAt: '2026-12-01T00:00:00.000Z' };
const key: SourceKey = { id: 'key_1', sourceId: source.id, status: 'active', createdAt: '2026-12-01T00:00:00.000Z' };

describe('DynamoSourceStore.addKey', () => {
  test('a transaction cancelled for throttling rejects (a retryable 500), it is not "no source"', async () => {
    const err = cancelled('None', 'ThrottlingError', 'None');
    const { doc } = fakeClient(source, [err]);
    await expect(new DynamoSourceStore(doc, 't').addKey(source, key, 'digest')).rejects.toBe(err);
  });

  test('a transaction cancelled for its condition (the source is gone) is false', async () => {
    const { doc } = fakeClient(source, [cancelled('ConditionalCheckFailed', 'None', 'None')]);
    await expect(new DynamoSourceStore(doc, 't').addKey(source, key, 'digest')).resolves.toBe(false);
  });

  test('through the use case: throttling answers 500 "may be retried", not 404', async () => {
    const { doc } = fakeClient(source, [cancelled('ThrottlingError')]);
    const res = await rotateKey({ sources: new DynamoSourceStore(doc, 't') }, source.id).then(
      () => undefined,
      (e: unknown) => errorResponse(e),
    );
    expect(res?.statusCode).toBe(500);
    expect(JSON.parse(res!.body!)).toMatchObject({ error: 'internal_error', message: expect.stringMatching(/may be retried/) });
  });
});

describe('DynamoSourceStore.createSource', () => {
  test('the name taken (its condition) is false', async () => {
    const { doc, sent } = fakeClient(source, [cancelled('ConditionalCheckFailed', 'None', 'None', 'None')]);
    await expect(new DynamoSourceStore(doc, 't').createSource(source, key, 'digest')).resolves.toBe(false);
    expect(sent.filter((c) => c === 'TransactWriteCommand')).toHaveLength(1);
  });

  test('a conflict with a concurrent create is sent once more; the loser then fails the condition (false → 409)', async () => {
    const { doc, sent } = fakeClient(source, [
      cancelled('TransactionConflict', 'None', 'None', 'None'),
      cancelled('ConditionalCheckFailed', 'None', 'None', 'None'),
    ]);
    await expect(new DynamoSourceStore(doc, 't').createSource(source, key, 'digest')).resolves.toBe(false);
    expect(sent.filter((c) => c === 'TransactWriteCommand')).toHaveLength(2);
  });

  test('a conflict whose retry goes through creates the source', async () => {
    const { doc, sent } = fakeClient(source, [cancelled('TransactionConflict', 'None', 'None', 'None')]);
    await expect(new DynamoSourceStore(doc, 't').createSource(source, key, 'digest')).resolves.toBe(true);
    expect(sent.filter((c) => c === 'TransactWriteCommand')).toHaveLength(2);
  });

  test('a second conflict, or throttling, rejects (500), never "name taken"', async () => {
    const second = cancelled('TransactionConflict');
    const twice = fakeClient(source, [cancelled('TransactionConflict'), second]);
    await expect(new DynamoSourceStore(twice.doc, 't').createSource(source, key, 'digest')).rejects.toBe(second);
    expect(twice.sent.filter((c) => c === 'TransactWriteCommand')).toHaveLength(2);
    const throttled = cancelled('ThrottlingError', 'None', 'None', 'None');
    const once = fakeClient(source, [throttled]);
    await expect(new DynamoSourceStore(once.doc, 't').createSource(source, key, 'digest')).rejects.toBe(throttled);
    expect(once.sent.filter((c) => c === 'TransactWriteCommand')).toHaveLength(1);
  });

  test('through the use case: the loser of a conflict gets the 409 naming the field', async () => {
    // The listing finds no source named so before the create; the retry then fails the name's condition.
    const { doc } = fakeClient(source, [cancelled('TransactionConflict'), cancelled('ConditionalCheckFailed', 'None', 'None', 'None')]);
    const store = new DynamoSourceStore(doc, 't');
    const listed = jest
      .spyOn(store, 'listSources')
      .mockResolvedValueOnce([])
      .mockResolvedValueOnce([{ source, keys: [] }]);
    const err = await createSource({ sources: store }, { name: 'crm', party: 'second' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect(errorResponse(err).statusCode).toBe(409);
    expect(listed).toHaveBeenCalledTimes(2);
  });
});

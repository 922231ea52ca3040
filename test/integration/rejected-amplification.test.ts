/**
 * Issue 18 item 6 against DynamoDB Local: junk batches cannot make the table keep more than a
 * bounded number of records per request, and erasing (or exporting) a person reads the same
 * number of items whatever junk others sent: the rejected records naming them are found through
 * the index of the identifiers they mention, not by reading every kept record.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BootstrapKeyStore, envLoader } from '../../adapters/keys';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { DynamoRejectedStore } from '../../adapters/dynamo/rejected-store';
import { collect, MAX_REJECTED_RECORDS_PER_REQUEST } from '../../app/collect';
import { eraseProfile } from '../../app/erase';
import { exportProfile } from '../../app/profiles';
import { stitch } from '../../app/stitch';
import { ValidationError } from '../../core/errors';
import { createTestTable, scanTable, type TestTable } from '../helpers/dynamo';
import { eventFactory } from '../helpers/events';
import { MemoryQueue } from '../helpers/collect';

let t: TestTable;
const event = eventFactory();

beforeAll(async () => {
  t = await createTestTable('amplify');
});
afterAll(() => t.drop());

/** A document client that counts the items DynamoDB read for it (Query and BatchGet). */
function counting(doc: DynamoDBDocumentClient): { doc: DynamoDBDocumentClient; read: () => number } {
  let read = 0;
  const counted = new Proxy(doc, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (cmd: unknown) => {
        const out = (await target.send(cmd as never)) as {
          Items?: unknown[];
          ScannedCount?: number;
          Responses?: Record<string, unknown[]>;
        };
        read += out.ScannedCount ?? out.Items?.length ?? 0;
        for (const items of Object.values(out.Responses ?? {})) read += items.length;
        return out;
      };
    },
  });
  return { doc: counted, read: () => read };
}

const KEY = 'wk_amplification';
const keysOf = () => new BootstrapKeyStore({ write: envLoader(KEY) });

async function send(rejected: DynamoRejectedStore, route: 'batch' | 'track', body: unknown): Promise<void> {
  await collect({ keys: keysOf(), queue: new MemoryQueue(), rejected }, { route, body, credential: KEY }).catch((err) => {
    if (!(err instanceof ValidationError)) throw err;
  });
}

/** A person with a profile and one rejected call naming them; erased with a counting client: the items read. */
async function personErasedReads(n: number): Promise<{ erasure: number; export: number; rejected: number }> {
  const store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
  const user = `amp-user-${n}`;
  await stitch(
    store,
    event({ type: 'identify', event: undefined, userId: user, traits: { email: `${user}@example.com`, phone: `+3161234567${n}` } }),
  );
  await send(new DynamoRejectedStore(t.doc, { tableName: t.tableName }), 'track', {
    type: 'track',
    userId: user,
    properties: { phone: `06-1234567${n}` },
  });
  const exp = counting(t.doc);
  const exported = await exportProfile(store, `user_id:${user}`, undefined, {
    rejected: new DynamoRejectedStore(exp.doc, { tableName: t.tableName }),
  });
  expect(exported.rejected).toHaveLength(1);
  const era = counting(t.doc);
  const result = await eraseProfile(store, `user_id:${user}`, { rejected: new DynamoRejectedStore(era.doc, { tableName: t.tableName }) });
  return { erasure: era.read(), export: exp.read(), rejected: result.erased.rejected };
}

describe('rejected-event amplification (DynamoDB Local)', () => {
  it('junk batches store at most 11 records each, and erasure and export read as many items as without them', async () => {
    const before = await personErasedReads(1);
    expect(before.rejected).toBe(1);

    const rejected = new DynamoRejectedStore(t.doc, { tableName: t.tableName });
    const junk = { batch: Array.from({ length: 2500 }, () => 1) };
    for (let i = 0; i < 5; i++) await send(rejected, 'batch', junk);
    // Junk naming identifiers of other people, too.
    for (let i = 0; i < 5; i++)
      await send(rejected, 'batch', {
        batch: Array.from({ length: 2500 }, (_, j) => ({
          type: 'track',
          userId: `other-${i}-${j}`,
          traits: { email: `o${j}@example.com` },
        })),
      });
    const kept = (await scanTable(t.doc, t.tableName)).filter((i) => /^REJ#\d/.test(i.pk as string));
    expect(kept.length).toBeLessThanOrEqual(10 * (MAX_REJECTED_RECORDS_PER_REQUEST + 1) + 2);

    const after = await personErasedReads(2);
    expect(after.rejected).toBe(1);
    expect(after.erasure).toBe(before.erasure);
    expect(after.export).toBe(before.export);
  }, 120_000);
});

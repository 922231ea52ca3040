/**
 * DynamoDB Local accepts any credentials, so it must not be reachable from the network: it
 * listens on 127.0.0.1 only, like the API (the suite's instance is started by the same
 * `startDynamoLocal` as `npm start`). A table kept in `.scherp/` by an earlier version gets the
 * indexes it lacks when the runtime starts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { documentClient, localDynamoConfig } from '../../adapters/dynamo/client';
import { MEMBERS_INDEX } from '../../adapters/dynamo/keys';
import { DynamoMembershipStore } from '../../adapters/dynamo/membership-store';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { tableDefinition } from '../../adapters/dynamo/table-def';
import { ensureTable } from '../../local/dynamodb-local';
import { testEndpoint } from '../helpers/dynamo';

const port = Number(new URL(testEndpoint()).port);

function connects(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 5000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/** Local addresses of the listening sockets on `port` (Linux: /proc/net/tcp and tcp6, hex). */
function listeningAddresses(): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6']
    .filter((f) => existsSync(f))
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1))
    .map((l) => l.trim().split(/\s+/))
    .filter((cols) => cols[3] === '0A' && cols[1]?.endsWith(`:${hexPort}`))
    .map((cols) => cols[1]!.split(':')[0]!);
}

it('answers on 127.0.0.1', async () => {
  const client = new DynamoDBClient(localDynamoConfig(testEndpoint()));
  await expect(client.send(new ListTablesCommand({ Limit: 1 }))).resolves.toBeDefined();
  client.destroy();
});

it('is not reachable on any other address of the machine', async () => {
  const others = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && a.family === 'IPv4')
    .map((a) => a!.address);
  for (const address of others) expect(await connects(address)).toBe(false);
  // Where the kernel tells (Linux), every listening socket on the port is the loopback address
  // (127.0.0.1 as IPv4, or as an IPv4-mapped IPv6 address).
  if (existsSync('/proc/net/tcp')) {
    const addrs = listeningAddresses();
    expect(addrs.length).toBeGreaterThan(0);
    for (const a of addrs) expect(['0100007F', '0000000000000000FFFF00000100007F']).toContain(a);
  }
});

it('a table kept from an earlier version (no members index) gets the index, and its members are listed', async () => {
  const client = new DynamoDBClient(localDynamoConfig(testEndpoint()));
  const doc = documentClient(localDynamoConfig(testEndpoint()));
  const tableName = `upgrade-${randomBytes(6).toString('hex')}`;
  const { GlobalSecondaryIndexes: _, ...before } = tableDefinition(tableName);
  await client.send(
    new CreateTableCommand({
      ...before,
      AttributeDefinitions: before.AttributeDefinitions!.filter((a) => ['pk', 'sk'].includes(a.AttributeName!)),
    }),
  );
  try {
    expect(await ensureTable(client, tableName)).toBe(false);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    // Built before the runtime goes on (writes while an index is CREATING fail).
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.IndexStatus])).toEqual([[MEMBERS_INDEX, 'ACTIVE']]);
    // Membership written after the upgrade is listed from it; a second start changes nothing.
    const parts = new DynamoPersonalizationStore(doc, tableName);
    expect(await parts.saveAudiences('p-1', { vip: '2026-12-01T00:00:00.000Z' })).toBe(true);
    const page = await new DynamoMembershipStore(doc, tableName).listMembers('vip', 10);
    expect(page.members).toEqual([{ profileId: 'p-1', enteredAt: '2026-12-01T00:00:00.000Z' }]);
    expect(await ensureTable(client, tableName)).toBe(false);
  } finally {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
    client.destroy();
    doc.destroy();
  }
});

/**
 * DynamoDB Local accepts any credentials, so it must not be reachable from the network: it
 * listens on 127.0.0.1 only, like the API (the suite's instance is started by the same
 * `startDynamoLocal` as `npm start`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoConfig } from '../../adapters/dynamo/client';
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

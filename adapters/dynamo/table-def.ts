import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { MEMBERS_INDEX, MEMBERS_INDEX_ATTRIBUTES, MEMBERS_INDEX_PK, MEMBERS_INDEX_SK } from './keys';

/**
 * The table as the local runtime and the tests create it; lib/ declares the same keys,
 * billing mode and stream for the cloud.
 */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: MEMBERS_INDEX_PK, AttributeType: 'S' },
      { AttributeName: MEMBERS_INDEX_SK, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: MEMBERS_INDEX,
        KeySchema: [
          { AttributeName: MEMBERS_INDEX_PK, KeyType: 'HASH' },
          { AttributeName: MEMBERS_INDEX_SK, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...MEMBERS_INDEX_ATTRIBUTES] },
      },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
  };
}

import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RuleStore } from '../../app/ports';
import { keys, ruleItem, RULES_PK } from './keys';
import { queryAll } from './query';

/** Rules and audiences live in one partition, `RULES`, one item per definition. */
export class DynamoRuleStore implements RuleStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listRuleDocs(): Promise<unknown[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': RULES_PK },
    });
    return items.map((it) => JSON.parse(it.doc as string));
  }

  async putRuleDoc(doc: { id: string }): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: ruleItem(doc) }));
  }

  async getRuleDoc(id: string): Promise<unknown | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.rule(id), ConsistentRead: true }));
    return res.Item ? JSON.parse(res.Item.doc as string) : undefined;
  }

  async deleteRuleDoc(id: string): Promise<boolean> {
    const res = await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.rule(id), ReturnValues: 'ALL_OLD' }));
    return res.Attributes !== undefined;
  }
}

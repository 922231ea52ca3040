import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ack } from './nag';

/** The three bootstrap keys, each a Secrets Manager secret holding a plain 32-char string. */
export interface ScherpSecrets {
  /** Write key: HTTP Basic user of the collect API. */
  readonly writeKey: secretsmanager.Secret;
  /** Read key: bearer of the profile API. */
  readonly readKey: secretsmanager.Secret;
  /** Admin key: bearer of the admin APIs (sources, keys, rejected events, rules and audiences). */
  readonly adminKey: secretsmanager.Secret;
  /** Signs `POST /v1/context` user tokens: your back end reads it and mints them (README "Personalising a page"). */
  readonly userTokenSecret: secretsmanager.Secret;
}

/**
 * The bootstrap keys (write, read, admin) and the user-token signing secret, generated at
 * deploy time. The functions that read them get them with `bindSecret` (`lib/bind.ts`).
 */
export class ScherpKeys extends Construct {
  public readonly secrets: ScherpSecrets;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.secrets = {
      writeKey: this.createKeySecret('WriteKey', 'write'),
      readKey: this.createKeySecret('ReadKey', 'read'),
      adminKey: this.createKeySecret('AdminKey', 'admin'),
      userTokenSecret: this.createKeySecret('UserTokenSecret', 'user-token signing'),
    };
  }

  private createKeySecret(id: string, role: string): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, id, {
      description: `Scherp ${role} key (plain string)`,
      generateSecretString: { passwordLength: 32, excludePunctuation: true, includeSpace: false },
    });
    ack(
      secret,
      'AwsSolutions-SMG4',
      'Bootstrap API keys are distributed to SDKs and clients; automatic rotation would break them without coordination. Rotate by updating the secret value deliberately.',
    );
    return secret;
  }
}

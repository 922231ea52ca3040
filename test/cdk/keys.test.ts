import type { Template } from 'aws-cdk-lib/assertions';
import { synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp();
  template = synth.template;
});

describe('secrets and outputs', () => {
  test('four generated 32-char alphanumeric secrets: three keys and the user-token secret', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 4);
    template.allResourcesProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 32, ExcludePunctuation: true, IncludeSpace: false },
    });
  });
});

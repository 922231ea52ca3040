import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CustomerDataPlatform } from '../../lib/customer-data-platform';
import { CONSOLE_ROUTES } from '../../lambdas/routes';
import { actionsOf, functionProps, synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp();
  template = synth.template;
});

describe('console (same origin as the API)', () => {
  test('GET /console and GET /console/{proxy+} go to the console function, payload 2.0', () => {
    const fnId = synth.stack.getLogicalId(synth.stack.platform.functions.console.node.defaultChild as never);
    const integrations = template.toJSON().Resources;
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).filter((r) =>
      String(r.Properties.RouteKey).includes('/console'),
    );
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(CONSOLE_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const r of routes) {
      const integrationId = r.Properties.Target['Fn::Join'][1][1].Ref;
      expect(integrations[integrationId].Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [fnId, 'Arn'] },
      });
    }
  });

  test('the console routes get the admin routes’ throttling budget', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    for (const r of CONSOLE_ROUTES)
      expect(stage.Properties.RouteSettings[`${r.method} ${r.path}`]).toEqual({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
  });

  test('the function: nodejs22.x on arm64, its own log group, no environment of its own', () => {
    const props = functionProps(synth, synth.stack.platform.functions.console);
    expect(props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 10,
    });
    expect(Object.keys(props.Environment.Variables).sort()).toEqual(
      ['NODE_OPTIONS', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'].sort(),
    );
    expect(props.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe('console');
  });

  test('least privilege: its role writes its own logs and nothing else (no table, no secret, no queue)', () => {
    const { actions, resources } = actionsOf(synth, synth.stack.platform.functions.console);
    expect([...new Set(actions)].sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    const logGroupId = functionProps(synth, synth.stack.platform.functions.console).LoggingConfig.LogGroup.Ref;
    for (const r of resources) expect(JSON.stringify(r)).toContain(logGroupId);
  });

  test('stack output ConsoleUrl: <ApiUrl>console/, with the outputPrefix too', () => {
    const outputs = template.toJSON().Outputs;
    const api = outputs.ApiUrl.Value['Fn::Join'][1] as unknown[];
    // The API's URL (it ends with "/") followed by console/.
    expect(outputs.ConsoleUrl.Value).toEqual({ 'Fn::Join': ['', [...api.slice(0, -1), `${api[api.length - 1]}console/`]] });
    expect(api[api.length - 1]).toBe('/');
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    new CustomerDataPlatform(stack, 'Eu', { outputPrefix: 'Eu' });
    expect(Object.keys(Template.fromStack(stack).toJSON().Outputs)).toContain('EuConsoleUrl');
  });
});

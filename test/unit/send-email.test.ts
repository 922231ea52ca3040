import { sendActionEmail } from '../../app/send-email';
import type { Mailer } from '../../app/ports';
import { actionTriggered } from '../../core/rules/contract';

const sent: Parameters<Mailer['sendTemplated']>[0][] = [];
const deps = {
  mailer: { sendTemplated: async (m: Parameters<Mailer['sendTemplated']>[0]) => void sent.push(m) },
  templates: { 'complaint-service-email': 'complaint-tpl' },
  from: 'service@shop.example',
};
const base = {
  ruleId: 'r',
  profileId: 'p',
  trigger: { messageId: 'm', timestamp: '2026-01-01T00:00:00.000Z' },
  dedupeId: 'd1',
  trace: [],
  at: '2026-01-01T00:00:00.000Z',
};

test('sends the action template to the email in the event, with the data as template data', async () => {
  const e = actionTriggered({
    ...base,
    action: 'complaint-service-email',
    target: 'email',
    person: { email: 'ada@example.com' },
    data: { caseId: 'k-1' },
  });
  expect(await sendActionEmail(deps, JSON.parse(JSON.stringify(e.detail)))).toBe('sent');
  expect(sent).toEqual([
    {
      from: 'service@shop.example',
      to: 'ada@example.com',
      template: 'complaint-tpl',
      data: { caseId: 'k-1', profileId: 'p', action: 'complaint-service-email' },
      idempotencyKey: 'd1',
    },
  ]);
});

test('skips events without a template, without an email, or not actions', async () => {
  sent.length = 0;
  expect(
    await sendActionEmail(
      deps,
      actionTriggered({ ...base, action: 'other', target: 'email', person: { email: 'a@b.co' }, data: {} }).detail,
    ),
  ).toBe('no-template');
  expect(
    await sendActionEmail(
      deps,
      actionTriggered({ ...base, action: 'complaint-service-email', target: 'email', person: {}, data: {} }).detail,
    ),
  ).toBe('no-email');
  expect(await sendActionEmail(deps, { audienceId: 'x' })).toBe('not-an-action');
  expect(
    await sendActionEmail(
      { ...deps, templates: JSON.parse('{"__proto__": "x"}') },
      actionTriggered({ ...base, action: 'toString', target: 'email', person: { email: 'a@b.co' }, data: {} }).detail,
    ),
  ).toBe('no-template');
  expect(sent).toEqual([]);
});

/**
 * The email destination: an `Action Triggered` with `target: "email"` becomes one templated
 * email, with the template chosen per action and the action's `data` as template data.
 */
import { ActionTriggeredDetailSchema } from '../core/rules/contract';
import type { Mailer } from './ports';

export interface SendEmailDeps {
  readonly mailer: Mailer;
  /** Action name → template name. */
  readonly templates: Readonly<Record<string, string>>;
  readonly from: string;
}

export type SendEmailOutcome = 'sent' | 'no-template' | 'no-email' | 'not-an-action';

export async function sendActionEmail(deps: SendEmailDeps, detail: unknown): Promise<SendEmailOutcome> {
  const parsed = ActionTriggeredDetailSchema.safeParse(detail);
  if (!parsed.success) return 'not-an-action';
  const d = parsed.data;
  const template = Object.hasOwn(deps.templates, d.action) ? deps.templates[d.action] : undefined;
  if (!template) return 'no-template';
  if (!d.email) return 'no-email';
  await deps.mailer.sendTemplated({
    from: deps.from,
    to: d.email,
    template,
    data: { ...d.data, profileId: d.profileId, action: d.action },
    idempotencyKey: d.dedupeId,
  });
  return 'sent';
}

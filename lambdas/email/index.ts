/**
 * email: an EventBridge target for `Action Triggered` events with `target: "email"`; sends the
 * action's SES template to the profile's email. A failure throws, so EventBridge retries it and
 * then dead-letters it.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { sendActionEmail, type SendEmailDeps } from '../../app/send-email';
import { SesMailer } from '../../adapters/ses-mailer';
import { ENV, optionalEnv, requireEnv } from '../shared/env';
import { lazy } from '../shared/lazy';
import { flushMetrics, logger, metrics, MetricUnit } from '../shared/observability';

export function createEmailHandler(deps: () => SendEmailDeps) {
  return async (event: EventBridgeEvent<string, unknown>): Promise<void> => {
    try {
      const outcome = await sendActionEmail(deps(), event.detail);
      metrics.addMetric(outcome === 'sent' ? 'EmailsSent' : 'EmailsSkipped', MetricUnit.Count, 1);
      if (outcome !== 'sent') logger.info('email not sent', { outcome, eventId: event.id });
    } finally {
      flushMetrics();
    }
  };
}

const cloudDeps = lazy(
  (): SendEmailDeps => ({
    mailer: new SesMailer(new SESv2Client({}), optionalEnv(ENV.EMAIL_CONFIGURATION_SET)),
    templates: JSON.parse(requireEnv(ENV.EMAIL_TEMPLATES)) as Record<string, string>,
    from: requireEnv(ENV.EMAIL_FROM),
  }),
);

export const handler = createEmailHandler(cloudDeps);

/**
 * Mailer on SES v2: one templated email per call. The dedupe id travels as an email tag so a
 * redelivery can be traced in SES events.
 */
import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { Mailer } from '../app/ports';

export class SesMailer implements Mailer {
  constructor(
    private readonly ses: SESv2Client,
    private readonly configurationSetName?: string,
  ) {}

  async sendTemplated(msg: {
    from: string;
    to: string;
    template: string;
    data: Record<string, unknown>;
    idempotencyKey: string;
  }): Promise<void> {
    await this.ses.send(
      new SendEmailCommand({
        FromEmailAddress: msg.from,
        Destination: { ToAddresses: [msg.to] },
        Content: { Template: { TemplateName: msg.template, TemplateData: JSON.stringify(msg.data) } },
        EmailTags: [{ Name: 'scherp-dedupe-id', Value: msg.idempotencyKey }],
        ConfigurationSetName: this.configurationSetName,
      }),
    );
  }
}

/**
 * Sends e-mail through the SMTP server of SMTP_URL, from EMAIL_FROM. Every e-mail the product
 * sends goes through `sendMail`; it throws when SMTP_URL is unset or the server refuses, so a job
 * that sends mail is recorded as failed rather than silently sending nothing.
 */
import { createTransport } from 'nodemailer';
import type { Config } from '../config.ts';

export interface MailMessage {
  to: readonly string[];
  subject: string;
  text: string;
}

export class MailNotConfiguredError extends Error {
  constructor() {
    super('SMTP_URL is not set, so no e-mail can be sent. Set SMTP_URL (e.g. smtp://user:pass@mail.example.org:587, or smtps:// for TLS) and EMAIL_FROM.');
    this.name = 'MailNotConfiguredError';
  }
}

/** Sends one plain-text message to `to` (all recipients on one message). Returns the server's message id. */
export async function sendMail(config: Pick<Config, 'smtpUrl' | 'emailFrom'>, message: MailMessage): Promise<string> {
  if (!config.smtpUrl) throw new MailNotConfiguredError();
  if (message.to.length === 0) throw new Error('sendMail: no recipients');
  // A transport per message: e-mails are rare (a digest a day), and nothing stays connected.
  const transport = createTransport({
    url: config.smtpUrl,
    // Fail within a minute rather than nodemailer's 2-minute connect and 10-minute socket defaults.
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  });
  try {
    const info = await transport.sendMail({ from: config.emailFrom, to: [...message.to], subject: message.subject, text: message.text });
    if (info.rejected.length > 0) throw new Error(`The mail server refused ${info.rejected.join(', ')}: ${info.response}`);
    return info.messageId;
  } finally {
    transport.close();
  }
}

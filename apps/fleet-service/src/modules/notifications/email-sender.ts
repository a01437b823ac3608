import { EmailChannelConfigSchema, type EmailChannelConfig } from '@agentbox/schemas';
import { createTransport } from 'nodemailer';
import type { EmailMessage } from './email-format.js';

const TIMEOUT_MS = 10_000;

/** An e-mail channel's settings as stored (encrypted, in the URL column); the password is stored apart. */
export type EmailSettings = Omit<EmailChannelConfig, 'password'>;

export function parseEmailSettings(stored: string): EmailSettings {
  return EmailChannelConfigSchema.omit({ password: true }).parse(JSON.parse(stored));
}

/** `smtp://host:port` (`smtps://` with implicit TLS): what the API shows for an e-mail channel. */
export function emailShownUrl(settings: EmailSettings): string {
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  return `${settings.secure ? 'smtps' : 'smtp'}://${host}:${settings.port}`;
}

/**
 * Sends one message through the channel's SMTP server. Resolves to null once the server took it, else to
 * why not: a reason that never contains the password (SMTP servers may echo what they were sent).
 */
export async function sendEmail(
  settings: EmailSettings,
  password: string | undefined,
  message: EmailMessage,
): Promise<string | null> {
  const transport = createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    // Without implicit TLS, nodemailer upgrades with STARTTLS whenever the server offers it.
    ...(settings.username === undefined ? {} : { auth: { user: settings.username, pass: password ?? '' } }),
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  try {
    await transport.sendMail({
      from: settings.from,
      to: settings.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
    return null;
  } catch (error) {
    const text = (error as Error).message || String(error);
    return password ? text.split(password).join('***') : text;
  } finally {
    transport.close();
  }
}

import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, expectError, useFleetApp } from './support/fleet-app.js';

const SMTP_USER = 'alerts@smtp.example';
const SMTP_PASSWORD = 'SMTPe2e-password-0123456789';
const PUBLIC_URL = 'https://fleet.example.com';

interface Received {
  user: string | undefined;
  from: string | undefined;
  to: string[];
  raw: string;
}

/**
 * A real SMTP server with login: it accepts only SMTP_USER/SMTP_PASSWORD and records every message.
 * No STARTTLS: its certificate would be self-signed, which the service rightly refuses.
 */
function smtpServer(received: Received[], { startTls = false } = {}): SMTPServer {
  return new SMTPServer({
    // smtp-server's own STARTTLS certificate is self-signed.
    disabledCommands: startTls ? [] : ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          user: session.user as string | undefined,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
}

/** A header of a raw message, its folded lines joined. */
function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

describe.each(drivers)('e-mail notification channels ($name)', (driver) => {
  const skip = driver.skip;
  const received: Received[] = [];
  let server: SMTPServer;
  let port = 0;

  const app = useFleetApp(driver, 'email-channels', {
    signIn: 'every role',
    env: () => ({ AGENTBOX_PUBLIC_URL: PUBLIC_URL }),
  });
  const { call, tokens } = app;

  beforeAll(async () => {
    if (skip) return;
    server = smtpServer(received);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const config = () => ({
    host: '127.0.0.1',
    port,
    username: SMTP_USER,
    password: SMTP_PASSWORD,
    from: 'fleet@example.com',
    to: ['ops@example.com', 'oncall@example.com'],
  });
  const create = (body: unknown) =>
    call('POST', '/api/v1/notification-channels', { token: tokens.admin, body });

  it.skipIf(skip)('validates addresses, ports and fields with clear messages', async () => {
    const bad = async (patch: Record<string, unknown>, message: RegExp) => {
      const response = await expectError(
        create({ name: 'Mail', type: 'email', config: { ...config(), ...patch } }),
        400,
        'VALIDATION_FAILED',
      );
      expect(response.body.message).toMatch(message);
      expect(response.body.message).not.toContain(SMTP_PASSWORD);
    };
    await bad({ to: ['not-an-address'] }, /config\.to\.0: must be an e-mail address/);
    await bad({ to: [] }, /config\.to: needs at least one address/);
    await bad({ from: 'fleet' }, /config\.from: must be an e-mail address/);
    await bad({ port: 70_000 }, /config\.port: must be a port number/);
    await bad({ host: 'smtp.example.com/x' }, /config\.host: must be a host name or IP address/);
    // The URL of the HTTP channel types is no e-mail setting.
    await bad({ url: 'https://example.com' }, /config: Unrecognized key: "url"/);
    await expectError(
      call('POST', '/api/v1/notification-channels', {
        token: tokens.operator,
        body: { name: 'Mail', type: 'email', config: config() },
      }),
      403,
      'FORBIDDEN',
    );
  });

  it.skipIf(skip)('keeps the password sealed and sends the test through the SMTP server', async () => {
    const created = await create({ name: 'Ops mail', type: 'email', config: config() });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    const shown = await call('GET', `/api/v1/notification-channels/${id}`, { token: tokens.viewer });
    expect(shown.body).toMatchObject({ type: 'email', url: `smtp://127.0.0.1:${port}`, hasSecret: true });
    const listed = await call('GET', '/api/v1/notification-channels', { token: tokens.viewer });
    expect(JSON.stringify(listed.body)).not.toContain(SMTP_PASSWORD);
    const rows: Array<Record<string, unknown>> = await app.running.app
      .get(DataSource)
      .query('SELECT * FROM notification_channels');
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(SMTP_PASSWORD);
    expect(JSON.stringify(rows)).not.toContain('ops@example.com');
    const audit = await call('GET', '/api/v1/audit?limit=50', { token: tokens.admin });
    expect(JSON.stringify(audit.body)).toContain('notification-channel.created');
    expect(JSON.stringify(audit.body)).not.toContain(SMTP_PASSWORD);

    const outcome = await call('POST', `/api/v1/notification-channels/${id}/test`, { token: tokens.admin });
    expect(outcome.body).toEqual({ ok: true, attempts: 1 });
    expect(received).toHaveLength(1);
    const mail = received[0]!;
    expect(mail.user).toBe(SMTP_USER);
    expect(mail.from).toBe('fleet@example.com');
    expect(mail.to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(header(mail.raw, 'From')).toBe('fleet@example.com');
    expect(header(mail.raw, 'To')).toBe('ops@example.com, oncall@example.com');
    expect(header(mail.raw, 'Subject')).toBe('[TEST] AgentBox test notification');
    expect(mail.raw).toContain('multipart/alternative');
    expect(mail.raw).toContain('text/html');
    expect(mail.raw).toContain(`${PUBLIC_URL}/alerts`);
    expect(mail.raw).toContain('Severity: info');

    // Changing the recipients keeps the password; fields of the HTTP types are refused.
    const changed = await call('PATCH', `/api/v1/notification-channels/${id}`, {
      token: tokens.admin,
      body: { config: { to: ['night@example.com'] } },
    });
    expect(changed.body).toMatchObject({ hasSecret: true });
    await expectError(
      call('PATCH', `/api/v1/notification-channels/${id}`, {
        token: tokens.admin,
        body: { config: { url: 'https://example.com/hook' } },
      }),
      400,
      'CHANNEL_CONFIG_MISMATCH',
    );
    expect(
      (await call('POST', `/api/v1/notification-channels/${id}/test`, { token: tokens.admin })).body,
    ).toEqual({ ok: true, attempts: 1 });
    expect(received[1]!.to).toEqual(['night@example.com']);
  });

  it.skipIf(skip)('answers a refused login as a failed delivery without the password', async () => {
    const wrong = 'wrong-password-SMTP-987654';
    const created = await create({
      name: 'Bad login',
      type: 'email',
      config: { ...config(), password: wrong },
    });
    const before = received.length;
    const outcome = await call('POST', `/api/v1/notification-channels/${created.body.id}/test`, {
      token: tokens.admin,
    });
    expect(outcome.status).toBe(200);
    expect(outcome.body).toMatchObject({ ok: false, attempts: 1 });
    expect(outcome.body.error).toMatch(/535|Invalid login|Authentication/);
    expect(outcome.body.error).not.toContain(wrong);
    expect(received.length).toBe(before);
    const deliveries = await call('GET', `/api/v1/notification-channels/${created.body.id}/deliveries`, {
      token: tokens.viewer,
    });
    expect(deliveries.body.items).toEqual([expect.objectContaining({ kind: 'test', ok: false })]);
    expect(JSON.stringify(deliveries.body)).not.toContain(wrong);

    // No server at all: a readable connection error.
    const nowhere = await create({ name: 'Nowhere', type: 'email', config: { ...config(), port: 1 } });
    const refused = await call('POST', `/api/v1/notification-channels/${nowhere.body.id}/test`, {
      token: tokens.admin,
    });
    expect(refused.body).toMatchObject({ ok: false, attempts: 1 });
    expect(refused.body.error).toMatch(/ECONNREFUSED|connect/);
  });

  it.skipIf(skip)('upgrades with STARTTLS when offered, and checks the certificate', async () => {
    const tlsServer = smtpServer(received, { startTls: true });
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    try {
      const tlsPort = (tlsServer.server.address() as AddressInfo).port;
      const created = await create({
        name: 'STARTTLS',
        type: 'email',
        config: { ...config(), port: tlsPort },
      });
      const before = received.length;
      const outcome = await call('POST', `/api/v1/notification-channels/${created.body.id}/test`, {
        token: tokens.admin,
      });
      // Sent in clear, the message would have arrived: the self-signed certificate stopped it.
      expect(outcome.body).toMatchObject({ ok: false, attempts: 1 });
      expect(outcome.body.error).toMatch(/certificate/i);
      expect(received.length).toBe(before);
    } finally {
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    }
  });
});

import { request, type ClientRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { UserAccountDtoSchema } from '@agentbox/schemas';
import { waitFor } from '@agentbox/test-support';
import { drivers, useFleetApp } from './support/fleet-app.js';

/** An open live stream: what it has sent so far, and whether the server ended it. */
interface OpenStream {
  text: () => string;
  ended: () => boolean;
  close: () => void;
}

function openStream(base: string, path: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    let text = '';
    let ended = false;
    const req: ClientRequest = request(`${base}${path}`, { headers }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`GET ${path}: ${response.statusCode}`));
        return;
      }
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => (ended = true));
      resolve({ text: () => text, ended: () => ended, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A live stream outlives the request that opened it: it must end when its caller loses access (docs/operations.md,
 * AGENTBOX_LIVE_CHECK_MS), on every replica, not only on reconnect.
 */
describe.each(drivers)('live stream of a caller who loses access ($name)', (driver) => {
  const app = useFleetApp(driver, 'live-session', {
    signIn: 'admin',
    env: () => ({ AGENTBOX_LIVE_CHECK_MS: '200' }),
  });
  const streams: OpenStream[] = [];
  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });

  async function newViewer(username: string): Promise<{ id: string; token: string }> {
    const created = await app.call('POST', '/api/v1/users', {
      token: app.tokens.admin,
      body: { username, password: `${username}-password`, role: 'viewer' },
    });
    expect(created.status).toBe(201);
    return {
      id: UserAccountDtoSchema.parse(created.body).id,
      token: await app.login(username, `${username}-password`),
    };
  }

  async function streamByTicket(token: string): Promise<OpenStream> {
    const ticket = await app.call('POST', '/api/v1/auth/stream-ticket', { token });
    expect(ticket.status).toBeLessThan(300);
    const stream = await openStream(app.base, `/api/v1/live?ticket=${String(ticket.body.ticket)}`);
    streams.push(stream);
    return stream;
  }

  async function streamByBearer(token: string): Promise<OpenStream> {
    const stream = await openStream(app.base, '/api/v1/live', { authorization: `Bearer ${token}` });
    streams.push(stream);
    return stream;
  }

  const endedWithNotice = (stream: OpenStream) =>
    waitFor(
      'the stream ended with session-ended',
      () => stream.ended() && stream.text().includes('event: session-ended'),
      {
        timeoutMs: 5_000,
      },
    );

  it.skipIf(driver.skip)(
    'ends the streams of a disabled user, a reset password and a revoked key; others stay',
    async () => {
      const kept = await newViewer('stays1');
      const disabled = await newViewer('leaves1');
      const reset = await newViewer('reset1');
      const key = await app.call('POST', '/api/v1/api-keys', {
        token: app.tokens.admin,
        body: { name: 'watcher', role: 'viewer' },
      });
      expect(key.status).toBe(201);

      const keptStream = await streamByTicket(kept.token);
      const disabledStream = await streamByTicket(disabled.token);
      const resetStream = await streamByBearer(reset.token);
      const keyStream = await streamByBearer(String(key.body.secret));

      expect(
        (
          await app.call('PATCH', `/api/v1/users/${disabled.id}`, {
            token: app.tokens.admin,
            body: { disabled: true },
          })
        ).status,
      ).toBe(200);
      await endedWithNotice(disabledStream);

      expect(
        (await app.call('POST', `/api/v1/users/${reset.id}/password-reset`, { token: app.tokens.admin }))
          .status,
      ).toBeLessThan(300);
      await endedWithNotice(resetStream);

      expect(
        (
          await app.call('POST', `/api/v1/api-keys/${String(key.body.id)}/revoke`, {
            token: app.tokens.admin,
          })
        ).status,
      ).toBeLessThan(300);
      await endedWithNotice(keyStream);

      // The stream of a user who kept access goes on, with its keep-alives.
      const before = keptStream.text().split(': keep-alive').length;
      await waitFor(
        'more keep-alives on the kept stream',
        () => keptStream.text().split(': keep-alive').length > before + 2,
        {
          timeoutMs: 5_000,
        },
      );
      expect(keptStream.ended()).toBe(false);
      expect(keptStream.text()).not.toContain('session-ended');
    },
  );
});

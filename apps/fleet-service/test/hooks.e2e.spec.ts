import { createHmac, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEntryDto, HookCreatedDtoSchema, HookDtoSchema, type RunRecord } from '@agentbox/schemas';
import { provisionSimulatedBox, type SimulatedBox, waitFor } from '@agentbox/test-support';
import { Device } from '../src/modules/devices/device.entity.js';
import { HookDeliveriesService } from '../src/modules/hooks/hook-deliveries.service.js';
import { drivers, expectError, useFleetApp } from './support/fleet-app.js';

/* eslint-disable @typescript-eslint/no-unsafe-return -- response bodies are checked field by field */

const sign = (secret: string, timestamp: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

describe.each(drivers)('webhooks relayed to agents on boxes ($name)', (driver) => {
  const skip = driver.skip;
  let online: SimulatedBox;
  let sleeper: SimulatedBox | undefined;
  let sleeperId: string;
  let racer: SimulatedBox | undefined;

  const app = useFleetApp(driver, 'hooks', {
    signIn: 'every role',
    env: () => ({
      AGENTBOX_INGEST_FLUSH_MS: '20',
      AGENTBOX_TASK_TIMEOUT_MS: '2000',
      AGENTBOX_HOOK_SWEEP_MS: '100',
      AGENTBOX_HOOK_RATE_PER_MIN: '40',
    }),
  });
  const { call, tokens } = app;

  /** A box that runs every agent.run at once and reports the run succeeded, its output echoing the input. */
  const runAtOnce = (box: SimulatedBox, input: string) => {
    const runId = `run-${randomUUID()}`;
    const run: RunRecord = {
      id: runId,
      agentId: 'echo',
      agentVersion: 1,
      trigger: { type: 'message' },
      status: 'succeeded',
      input,
      output: `echo: ${input}`,
      createdAt: Date.now(),
      startedAt: Date.now(),
      endedAt: Date.now(),
      steps: 1,
      usage: { inputTokens: 1, outputTokens: 1 },
    };
    // A box closed meanwhile (the end of the suite) reports nothing.
    setTimeout(() => void box.publish('runs', { runs: [run] }).catch(() => undefined), 100);
    return { status: 'succeeded' as const, output: { runId } };
  };

  beforeAll(async () => {
    if (skip) return;
    const provider = await call('POST', '/api/v1/providers', {
      token: tokens.admin,
      body: { id: 'local', name: 'Local', baseUrl: 'http://127.0.0.1:9/v1', models: ['m'] },
    });
    expect(provider.status, provider.text).toBe(201);
    const agent = await call('POST', '/api/v1/agents', {
      token: tokens.operator,
      body: {
        id: 'echo',
        definition: { name: 'Echo', instructions: 'Echo.', model: { provider: 'local', model: 'm' } },
      },
    });
    expect(agent.status, agent.text).toBe(201);
    const claim = await call('POST', '/api/v1/claim-tokens', { token: tokens.admin, body: { maxUses: 3 } });
    const answer = (command: { name: string; args: unknown }, box: SimulatedBox) =>
      command.name === 'agent.run'
        ? runAtOnce(box, (command.args as { input: string }).input)
        : { status: 'rejected' as const, error: 'unknown command' };
    online = await provisionSimulatedBox(app.base, claim.body.token, {
      hardwareId: 'hooks-e2e-online',
      onCommand: answer,
    });
    await online.goOnline({ birth: {} });
    sleeper = await provisionSimulatedBox(app.base, claim.body.token, {
      hardwareId: 'hooks-e2e-sleeper',
      onCommand: answer,
    });
    sleeperId = sleeper.deviceId;
    racer = await provisionSimulatedBox(app.base, claim.body.token, {
      hardwareId: 'hooks-e2e-racer',
      onCommand: answer,
    });
    await waitFor(
      'box online',
      async () =>
        (await call('GET', `/api/v1/devices/${online.deviceId}`, { token: tokens.admin })).body.online,
    );
  });

  afterAll(async () => {
    await online?.close();
    await sleeper?.close();
    await racer?.close();
  });

  async function createHook(name: string, deviceId = online.deviceId, extra: Record<string, unknown> = {}) {
    const created = await call('POST', '/api/v1/hooks', {
      token: tokens.operator,
      body: { name, agentId: 'echo', deviceId, ...extra },
    });
    expect(created.status, created.text).toBe(201);
    return HookCreatedDtoSchema.strict().parse(created.body);
  }

  const invoke = (id: string, body: string, headers: Record<string, string> = {}, query = '') =>
    call('POST', `/api/v1/hooks/${id}/invoke${query}`, { raw: body, headers });

  it.skipIf(skip)(
    'shows the secret once, stores it encrypted, and lets viewers list but not manage',
    async () => {
      const body = { name: 'Tickets', agentId: 'echo', deviceId: online.deviceId };
      await expectError(call('POST', '/api/v1/hooks', { token: tokens.viewer, body }), 403, 'FORBIDDEN');
      await expectError(call('POST', '/api/v1/hooks', { body }), 401, 'UNAUTHENTICATED');
      await expectError(
        call('POST', '/api/v1/hooks', { token: tokens.operator, body: { ...body, agentId: 'nobody' } }),
        404,
        'AGENT_NOT_FOUND',
      );
      const hook = await createHook('Tickets');
      expect(hook.secret).toMatch(/^abh_[A-Za-z0-9_-]{40,}$/);
      expect(hook.url).toBe(`${app.base}/api/v1/hooks/${hook.id}/invoke`);
      expect(hook).toMatchObject({
        name: 'Tickets',
        agentId: 'echo',
        deviceId: online.deviceId,
        deliveryTtlSec: 3600,
      });

      const listed = await call('GET', '/api/v1/hooks', { token: tokens.viewer });
      expect(listed.status).toBe(200);
      expect(listed.body.items.map((item: { id: string }) => item.id)).toContain(hook.id);
      expect(listed.text).not.toContain(hook.secret);
      const got = await call('GET', `/api/v1/hooks/${hook.id}`, { token: tokens.viewer });
      expect(HookDtoSchema.strict().parse(got.body).id).toBe(hook.id);
      expect(got.text).not.toContain(hook.secret);

      const rows: Array<Record<string, unknown>> = await app.running.app
        .get(DataSource)
        .query('SELECT * FROM hooks WHERE id = $1'.replace('$1', driver.name === 'sqlite' ? '?' : '$1'), [
          hook.id,
        ]);
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(hook.secret);
      expect(JSON.stringify(rows)).not.toContain(hook.secret.slice(4));
      expect(String(rows[0]?.secret_sealed)).toMatch(/^v1:/);

      await expectError(
        call('POST', `/api/v1/hooks/${hook.id}/secret`, { token: tokens.viewer }),
        403,
        'FORBIDDEN',
      );
      await expectError(
        call('DELETE', `/api/v1/hooks/${hook.id}`, { token: tokens.viewer }),
        403,
        'FORBIDDEN',
      );
      await expectError(
        call('GET', '/api/v1/hooks/aaaaaaaaaaaaaaaa', { token: tokens.viewer }),
        404,
        'HOOK_NOT_FOUND',
      );
    },
  );

  it.skipIf(skip)(
    'relays a call made with the bearer secret, waiting for the output on request',
    async () => {
      const hook = await createHook('Bearer');
      const auth = { authorization: `Bearer ${hook.secret}` };
      await expectError(invoke(hook.id, '{"a":1}'), 401, 'HOOK_UNAUTHORIZED');
      await expectError(
        invoke(hook.id, '{"a":1}', { authorization: 'Bearer abh_wrong' }),
        401,
        'HOOK_UNAUTHORIZED',
      );
      await expectError(invoke(hook.id, '{"a":1}', { authorization: hook.secret }), 401, 'HOOK_UNAUTHORIZED');
      await expectError(invoke('aaaaaaaaaaaaaaaa', '{"a":1}', auth), 404, 'HOOK_NOT_FOUND');
      const big = JSON.stringify({ blob: 'x'.repeat(300 * 1024) });
      await expectError(invoke(hook.id, big, auth), 413, 'HOOK_BODY_TOO_LARGE');
      const long = JSON.stringify({ blob: 'x'.repeat(20_000) });
      await expectError(invoke(hook.id, long, auth), 413, 'HOOK_INPUT_TOO_LARGE');

      const accepted = await invoke(hook.id, '{"ticket":1}', auth);
      expect(accepted.status, accepted.text).toBe(202);
      expect(accepted.body).toEqual({ runId: expect.stringMatching(/^run-/) });
      await waitFor('run stored', async () => {
        const run = await call('GET', `/api/v1/runs/${accepted.body.runId}`, { token: tokens.viewer });
        return run.status === 200 && run.body.status === 'succeeded';
      });

      const text = await call('POST', `/api/v1/hooks/${hook.id}/invoke`, {
        raw: 'disk full on db-1',
        headers: { ...auth, 'content-type': 'text/plain' },
      });
      expect(text.status, text.text).toBe(202);
      expect(
        online.commands.map((received) => (received.command.args as { input?: string }).input),
      ).toContain('disk full on db-1');

      const waited = await invoke(hook.id, '{"ticket":2}', auth, '?wait=10');
      expect(waited.status, waited.text).toBe(200);
      expect(waited.body).toMatchObject({ status: 'succeeded', output: 'echo: {"ticket":2}', error: null });
      const after = await call('GET', `/api/v1/hooks/${hook.id}`, { token: tokens.viewer });
      expect(after.body.lastInvokedAt).not.toBeNull();
    },
  );

  it.skipIf(skip)(
    'accepts a fresh HMAC signature once, and refuses stale, replayed and wrong ones',
    async () => {
      const hook = await createHook('Signed');
      const body = '{"alert":"disk full"}';
      const now = String(Math.floor(Date.now() / 1000));
      const headers = { 'x-agentbox-timestamp': now, 'x-agentbox-signature': sign(hook.secret, now, body) };
      const accepted = await invoke(hook.id, body, headers);
      expect(accepted.status, accepted.text).toBe(202);
      expect(accepted.body.runId).toMatch(/^run-/);
      await expectError(invoke(hook.id, body, headers), 401, 'HOOK_SIGNATURE_REPLAYED');

      const old = String(Math.floor(Date.now() / 1000) - 600);
      await expectError(
        invoke(hook.id, body, {
          'x-agentbox-timestamp': old,
          'x-agentbox-signature': sign(hook.secret, old, body),
        }),
        401,
        'HOOK_SIGNATURE_STALE',
      );
      await expectError(
        invoke(hook.id, body, { 'x-agentbox-signature': sign(hook.secret, now, body) }),
        401,
        'HOOK_SIGNATURE_STALE',
      );
      await expectError(
        invoke(hook.id, '{"alert":"changed"}', {
          ...headers,
          'x-agentbox-signature': sign(hook.secret, now, body),
        }),
        401,
        'HOOK_UNAUTHORIZED',
      );
      await expectError(
        invoke(hook.id, body, {
          'x-agentbox-timestamp': now,
          'x-agentbox-signature': sign('abh_other', now, body),
        }),
        401,
        'HOOK_UNAUTHORIZED',
      );
    },
  );

  it.skipIf(skip)('rotates the secret: the old one stops working at once', async () => {
    const hook = await createHook('Rotated');
    const rotated = await call('POST', `/api/v1/hooks/${hook.id}/secret`, { token: tokens.operator });
    expect(rotated.status, rotated.text).toBe(200);
    const fresh = HookCreatedDtoSchema.parse(rotated.body).secret;
    expect(fresh).not.toBe(hook.secret);
    await expectError(
      invoke(hook.id, '{}', { authorization: `Bearer ${hook.secret}` }),
      401,
      'HOOK_UNAUTHORIZED',
    );
    expect((await invoke(hook.id, '{}', { authorization: `Bearer ${fresh}` })).status).toBe(202);

    const deleted = await call('DELETE', `/api/v1/hooks/${hook.id}`, { token: tokens.operator });
    expect(deleted.status).toBe(204);
    await expectError(invoke(hook.id, '{}', { authorization: `Bearer ${fresh}` }), 404, 'HOOK_NOT_FOUND');

    const audit = await call('GET', '/api/v1/audit?limit=1000&targetType=hook', { token: tokens.admin });
    expect(audit.status, audit.text).toBe(200);
    const entries = audit.body as AuditEntryDto[];
    const mine = entries.filter((entry) => entry.targetId === hook.id);
    expect(mine.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['hook.created', 'hook.secret-rotated', 'hook.deleted', 'hook.invoked']),
    );
    expect(mine.find((entry) => entry.action === 'hook.created')).toMatchObject({
      actor: 'operator1',
      status: 201,
      outcome: 'success',
    });
    expect(mine.find((entry) => entry.action === 'hook.secret-rotated')).toMatchObject({ status: 200 });
    expect(mine.find((entry) => entry.action === 'hook.deleted')).toMatchObject({ status: 204 });
    const all = JSON.stringify(entries);
    expect(all).not.toContain(hook.secret);
    expect(all).not.toContain(fresh);
  });

  it.skipIf(skip)('limits the rate of calls per hook with 429 and Retry-After', async () => {
    const hook = await createHook('Flooded');
    let limited;
    for (let i = 0; i < 45 && !limited; i++) {
      const response = await invoke(hook.id, '{}', { authorization: 'Bearer abh_wrong' });
      if (response.status === 429) limited = response;
    }
    expect(limited?.body.code).toBe('HOOK_RATE_LIMITED');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it.skipIf(skip)(
    'queues calls while the box is offline, delivers them in order once it is back, expires the overdue',
    async () => {
      const hook = await createHook('Queued', sleeperId);
      const expiring = await createHook('Expiring', sleeperId, { deliveryTtlSec: 1 });
      const auth = { authorization: `Bearer ${hook.secret}` };
      const first = await invoke(hook.id, '{"n":1}', auth, '?wait=5');
      expect(first.status, first.text).toBe(202);
      expect(first.body).toMatchObject({ status: 'queued', deliveryId: expect.any(String) });
      expect(Date.parse(first.body.expiresAt) - Date.now()).toBeGreaterThan(3_500_000);
      const second = await invoke(hook.id, '{"n":2}', auth);
      expect(second.status).toBe(202);
      const doomed = await invoke(expiring.id, '{"n":0}', { authorization: `Bearer ${expiring.secret}` });
      expect(doomed.status).toBe(202);

      await waitFor('expired', async () => {
        const list = await call('GET', `/api/v1/hooks/${expiring.id}/deliveries`, { token: tokens.viewer });
        return list.body.items[0]?.status === 'expired' ? list.body.items[0] : undefined;
      });
      const listed = await call('GET', `/api/v1/hooks/${hook.id}/deliveries`, { token: tokens.viewer });
      expect(listed.body.items.map((item: { status: string }) => item.status)).toEqual(['queued', 'queued']);

      await sleeper!.goOnline({ birth: {} });
      const delivered = await waitFor('delivered', async () => {
        const list = await call('GET', `/api/v1/hooks/${hook.id}/deliveries`, { token: tokens.viewer });
        return list.body.items.every((item: { status: string }) => item.status === 'delivered')
          ? (list.body.items as Array<{ id: string; runId: string }>)
          : undefined;
      });
      expect(delivered.map((item) => item.id)).toEqual([second.body.deliveryId, first.body.deliveryId]);
      const commands = sleeper!.commands.map(
        (received) => (received.command.args as { input: string }).input,
      );
      expect(commands).toEqual(['{"n":1}', '{"n":2}']);
      const run = await waitFor('run', async () => {
        const response = await call('GET', `/api/v1/runs/${delivered[1]!.runId}`, { token: tokens.viewer });
        return response.status === 200 && response.body.status === 'succeeded' ? response.body : undefined;
      });
      expect(run.output).toBe('echo: {"n":1}');
      const summary = await call('GET', `/api/v1/hooks/${hook.id}`, { token: tokens.viewer });
      expect(summary.body.deliveries).toEqual({ queued: 0, delivered: 2, expired: 0, failed: 0 });
      const expiredSummary = await call('GET', `/api/v1/hooks/${expiring.id}`, { token: tokens.viewer });
      expect(expiredSummary.body.deliveries).toMatchObject({ expired: 1 });
    },
  );

  it.skipIf(skip)(
    'delivers each queued call once and in order, however many deliverers race for them',
    async () => {
      const hook = await createHook('Raced', racer!.deviceId);
      const auth = { authorization: `Bearer ${hook.secret}` };
      const inputs = Array.from({ length: 6 }, (_, n) => `{"n":${n}}`);
      for (const input of inputs) expect((await invoke(hook.id, input, auth)).status).toBe(202);
      // The box listens for commands but says nothing: only the database marks it online, so no status
      // message starts a delivery; the sweep and these direct calls race for the queue, as replicas would.
      await racer!.subscribe();
      const dataSource = app.running.app.get(DataSource);
      await dataSource.getRepository(Device).update({ id: racer!.deviceId }, { online: true });
      const deliveries: unknown = app.running.app.get(HookDeliveriesService);
      const service = deliveries as { deliverQueued(deviceId: string): Promise<void> };
      await Promise.all(Array.from({ length: 4 }, () => service.deliverQueued(racer!.deviceId)));
      await waitFor('all delivered', async () => {
        const list = await call('GET', `/api/v1/hooks/${hook.id}/deliveries`, { token: tokens.viewer });
        return list.body.items.every((item: { status: string }) => item.status === 'delivered');
      });
      const sent = racer!.commands.map((received) => (received.command.args as { input: string }).input);
      expect(sent).toEqual(inputs);
    },
  );
});

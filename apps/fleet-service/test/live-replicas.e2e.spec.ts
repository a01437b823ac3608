import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { type LiveEvent } from '@agentbox/schemas';
import {
  dropSchema,
  postgresReachable,
  provisionSimulatedBox,
  randomSchemaName,
  syntheticSamples,
  TEST_POSTGRES_URL,
  type SimulatedBox,
} from '@agentbox/test-support';
import { liveChannelOf, PostgresLiveBus } from '../src/modules/live/postgres-live-bus.service.js';
import { waitFor } from './broker-harness.js';
import { ADMIN_PASSWORD, bootApp, type BootedApp, type Driver } from './support/fleet-app.js';

const pgReachable = await postgresReachable();

/** Reads a live stream, collecting its events, until aborted. */
function follow(base: string, token: string) {
  const events: LiveEvent[] = [];
  const abort = new AbortController();
  const done = (async () => {
    // Not a browser: the token goes in the header (EventSource would need a stream ticket in the URL).
    const response = await fetch(`${base}/api/v1/live`, {
      signal: abort.signal,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((line) => line.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice('data: '.length)) as LiveEvent);
      }
    }
  })().catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });
  return {
    events,
    async stop() {
      abort.abort();
      await done;
    },
  };
}

/**
 * Two replicas on one PostgreSQL schema, each with its own embedded broker: a box's messages reach
 * replica A only, and a console streaming from replica B still sees what they changed, live.
 */
describe.skipIf(!pgReachable)('live events across replicas (postgres)', () => {
  const schema = randomSchemaName('agentbox_live_bus');
  const shared: Driver = {
    name: 'postgres',
    skip: false,
    setup: () => ({
      env: { DATABASE_URL: TEST_POSTGRES_URL, AGENTBOX_DB_SCHEMA: schema },
      teardown: () => Promise.resolve(),
    }),
  };
  let a: BootedApp;
  let b: BootedApp;
  let box: SimulatedBox | undefined;
  let deviceId: string;

  beforeAll(async () => {
    a = await bootApp(shared, { dataDirPrefix: 'agentbox-live-a-', schemaPrefix: 'unused' });
    b = await bootApp(shared, { dataDirPrefix: 'agentbox-live-b-', schemaPrefix: 'unused' });
    await waitFor('both replicas listening', () =>
      [a, b].every((app) => app.running.app.get(PostgresLiveBus).isListening()),
    );
    const adminA = await a.login('admin', ADMIN_PASSWORD);
    const claim = await a.call('POST', '/api/v1/claim-tokens', { token: adminA, body: {} });
    box = await provisionSimulatedBox(a.base, claim.body.token, { hardwareId: 'hw-live-bus-1' });
    deviceId = box.deviceId;
  }, 60_000);

  afterAll(async () => {
    await box?.close();
    await a?.close();
    await b?.close();
    await dropSchema(schema);
  });

  it('streams from replica B what replica A ingested, large batches included, each event once', async () => {
    const [tokenA, tokenB] = [await a.login('admin', ADMIN_PASSWORD), await b.login('admin', ADMIN_PASSWORD)];
    const onA = follow(a.base, tokenA);
    const onB = follow(b.base, tokenB);
    try {
      await waitFor('both streams open', async () => {
        const gauges = await Promise.all([a, b].map(async (app) => (await app.call('GET', '/metrics')).text));
        return gauges.every((text) => /agentbox_live_clients 1\b/.test(text));
      });
      await box!.status('online');
      // 600 samples: the event is far larger than one PostgreSQL notification may be.
      await box!.telemetry(syntheticSamples(600, 1_700_000_000_000), { seq: 5_000, ts: 1_700_000_000_000 });
      const telemetryOf = (events: LiveEvent[]) =>
        events.filter((event) => event.type === 'telemetry' && event.deviceId === deviceId);
      await waitFor('telemetry on replica B', () => telemetryOf(onB.events).length > 0, 15_000);
      await waitFor('status on replica B', () =>
        onB.events.some(
          (event) => event.type === 'device.status' && event.deviceId === deviceId && event.online,
        ),
      );
      const [remote] = telemetryOf(onB.events);
      expect(remote?.type === 'telemetry' && remote.samples).toHaveLength(600);
      expect(telemetryOf(onA.events)).toEqual(telemetryOf(onB.events));
      // A's own stream is not served its events a second time through the bus.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(telemetryOf(onA.events)).toHaveLength(1);
      expect(telemetryOf(onB.events)).toHaveLength(1);
    } finally {
      await onA.stop();
      await onB.stop();
    }
  });

  it('refuses and counts a notification that is not a batch of live events, and keeps serving', async () => {
    const tokenB = await b.login('admin', ADMIN_PASSWORD);
    const onB = follow(b.base, tokenB);
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    try {
      const channel = liveChannelOf(schema);
      await client.query('SELECT pg_notify($1, $2)', [channel, 'not a batch']);
      await client.query('SELECT pg_notify($1, $2)', [
        channel,
        `00000000-0000-4000-8000-000000000000:0:1:${JSON.stringify({ origin: 'x', events: [{ type: 'forged' }] })}`,
      ]);
      await waitFor('both refusals counted on B', async () => {
        const text = (await b.call('GET', '/metrics')).text;
        return (
          /agentbox_live_bus_rejections_total\{reason="malformed"\} 1\b/.test(text) &&
          /agentbox_live_bus_rejections_total\{reason="invalid-batch"\} 1\b/.test(text)
        );
      });
      await box!.telemetry(syntheticSamples(1, 1_700_000_100_000), { seq: 6_000, ts: 1_700_000_100_000 });
      await waitFor('the next telemetry on B', () =>
        onB.events.some((event) => event.type === 'telemetry' && event.samples[0]?.ts === 1_700_000_100_000),
      );
      expect(onB.events.some((event) => (event.type as string) === 'forged')).toBe(false);
    } finally {
      await client.end();
      await onB.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postgresReachable,
  sleep,
  startMosquitto,
  startOpenAiTestServer,
  waitFor,
  type OpenAiTestServer,
  type PrivateMosquitto,
} from '@agentbox/test-support';
import type { RunDto, UsageResponse } from '@agentbox/schemas';
import { ModelLedger } from '../support/model-ledger.js';
import { Platform } from '../support/platform.js';
import { PrivateDatabase } from '../support/postgres-database.js';
import { waitForReadiness } from '../support/readiness.js';
import { countStoredWhenSettled, SpoolingBox, countProblems } from '../support/spooling-box.js';
import { REPLICA_ID } from '../support/stacks.js';

const API_KEY = 'sk-e2e-fault-0123456789abcdef';
const OUTAGE_MS = 20_000;
const pgUp = await postgresReachable();

/**
 * docs/operations.md, "Faults on the data path": the production stack (Mosquitto, PostgreSQL) loses its
 * database for 20 s, as a failover or an operator does it: connections refused and every open one ended.
 * Simulated boxes publish telemetry and a real device agent runs an AI agent every second against the
 * model test server throughout, so telemetry, runs, run events and usage are all in flight. Afterwards
 * every telemetry message is stored once, every run is stored, and the fleet's token totals equal what
 * the model server served.
 */
describe.skipIf(!pgUp)('a 20 s PostgreSQL outage on the Mosquitto + PostgreSQL stack', () => {
  const ledger = new ModelLedger();
  let database: PrivateDatabase;
  let broker: PrivateMosquitto;
  let model: OpenAiTestServer;
  let platform: Platform;
  let boxes: SpoolingBox[] = [];
  let deviceId: string;

  const api = () => platform.api;
  async function send(method: string, path: string, body?: unknown) {
    const response = await api().request(method, path, body);
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status}`);
    return response.body;
  }
  async function get<T>(path: string): Promise<T> {
    const response = await api().request<T>('GET', path);
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
    return response.body;
  }
  const runs = () => get<RunDto[]>(`/api/v1/runs?limit=200&deviceId=${deviceId}`);

  beforeAll(async () => {
    database = await PrivateDatabase.create();
    broker = await startMosquitto();
    model = await startOpenAiTestServer({ apiKey: API_KEY, models: ['test-model'] });
    model.setResponder(ledger.textResponder('tick noted'));
    platform = new Platform({
      DATABASE_URL: database.url,
      AGENTBOX_DB_SCHEMA: 'public',
      AGENTBOX_MQTT_URL: broker.url,
      AGENTBOX_MQTT_USERNAME: broker.username,
      AGENTBOX_MQTT_PASSWORD: broker.password,
      AGENTBOX_MQTT_DYNSEC: 'true',
      AGENTBOX_PUBLIC_MQTT_URL: broker.url,
      AGENTBOX_REPLICA_ID: REPLICA_ID,
      AGENTBOX_INGEST_FLUSH_MS: '100',
    });
    await platform.start();
    const token = await api().createClaimToken({ ttlHours: 1, maxUses: 4 });
    platform.startAgent('agent-box', token, { AGENTBOX_WEBHOOK_PORT: '0' });
    deviceId = (await platform.waitForDevice((d) => d.name === 'agent-box' && d.online, 'agent-box online'))
      .id;
    boxes = await Promise.all([0, 1, 2].map((i) => SpoolingBox.enrol(platform.fleet.url, token, `pg-${i}`)));
    await send('POST', '/api/v1/providers', {
      id: 'local',
      name: 'Test model server',
      baseUrl: model.url,
      models: ['test-model'],
      apiKey: API_KEY,
    });
    await send('POST', '/api/v1/agents', {
      id: 'ticker',
      definition: {
        name: 'ticker',
        instructions: 'You note the time.',
        model: { provider: 'local', model: 'test-model' },
        triggers: [{ type: 'interval', everySec: 1 }],
      },
    });
  });

  afterAll(async () => {
    await Promise.all(boxes.map((box) => box.abort()));
    await database?.allowConnections().catch(() => undefined);
    await platform?.stop();
    await model?.close();
    await broker?.stop();
    await database?.drop();
  });

  it('stores every message, run and token once the database is back, and says 503 while it is away', async () => {
    const assignment = (await send('POST', '/api/v1/assignments', {
      agentId: 'ticker',
      target: { type: 'device', deviceId },
    })) as { id: string };
    await waitFor('runs succeed before the outage', async () => (await runs()).length >= 2);
    await waitFor('every box has messages stored', () => boxes.every((box) => box.acked.size >= 10));

    const callsBefore = ledger.served().calls;
    await database.refuseConnections();
    const outageEnds = Date.now() + OUTAGE_MS;
    const down = await waitForReadiness(platform.fleet.url, 503, 'the database refuses connections');
    expect(down.checks?.database).toBe('down');
    await sleep(outageEnds - Date.now());
    // The agent kept running against the model while the database was away.
    expect(ledger.served().calls).toBeGreaterThan(callsBefore + 5);
    expect(await waitForReadiness(platform.fleet.url, 503, 'the database still refuses')).toBeTruthy();
    await database.allowConnections();
    const up = await waitForReadiness(platform.fleet.url, 200, 'the database is back', 60_000);
    expect(up.checks?.database).toBe('up');

    // A few more runs after the outage, then the schedule stops and the books are closed.
    const callsAfter = ledger.served().calls;
    await waitFor('runs after the outage', () => ledger.served().calls >= callsAfter + 2);
    await send('DELETE', `/api/v1/assignments/${assignment.id}`);
    await waitFor('the box removed the agent', async () => {
      const agents = await get<Array<{ agentId: string; reported: unknown }>>(
        `/api/v1/devices/${deviceId}/agents`,
      );
      return !agents.some((agent) => agent.agentId === 'ticker' && agent.reported);
    });
    await Promise.all(boxes.map((box) => box.finish()));

    const counts = await countStoredWhenSettled(boxes, async (id) =>
      (await api().telemetry(id, 5_000)).map((sample) => sample.seq),
    );
    expect(countProblems(counts)).toEqual([]);

    await waitFor(
      'every run stored and every token counted once',
      async () => {
        const usage = await get<Pick<UsageResponse, 'totals'>>('/api/v1/usage?bucket=hour');
        const list = await runs();
        const served = ledger.served();
        return list.every((run) => run.status !== 'running' && run.status !== 'queued') &&
          list.filter((run) => run.status === 'succeeded').length === served.calls &&
          usage.totals.inputTokens === served.input &&
          usage.totals.outputTokens === served.output
          ? usage
          : undefined;
      },
      { timeoutMs: 30_000 },
    ).catch(async (error: unknown) => {
      const usage = await get<Pick<UsageResponse, 'totals'>>('/api/v1/usage?bucket=hour');
      const list = await runs();
      throw new Error(
        `${(error as Error).message}: fleet ${JSON.stringify(usage.totals)} over ${list.length} runs, ` +
          `served ${JSON.stringify(ledger.served())}`,
      );
    });
  });
});

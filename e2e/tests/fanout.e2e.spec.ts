import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@agentbox/test-support';
import type { AssignmentAcceptedDto, AssignmentJobDto, DesiredStateResponse } from '@agentbox/schemas';
import { FleetApi } from '../support/api.js';
import { closeAll, connectAll, provisionBoxes, type ConnectedFleet } from '../support/fleet-boxes.js';
import { startFleet, type FleetProcess } from '../support/processes.js';
import { stacks } from '../support/stacks.js';

/**
 * Fan-out of an assignment (docs/architecture.md, "Fan-out"): a real fleet-service process and a real
 * broker, a few hundred connected boxes; assigning an agent to every box answers 202 with a job that is
 * followed to done, and every box receives the desired document with the agent at a new version.
 */
const BOXES = 300;

describe.each(stacks)('fan-out of an assignment to $name', (stack) => {
  let dir: string;
  let fleet: FleetProcess;
  let api: FleetApi;
  let boxes: ConnectedFleet;
  let teardown: () => Promise<void> = () => Promise.resolve();

  async function send<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await api.request<T>(method, path, body);
    if (response.status >= 300) {
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentbox-e2e-fanout-'));
    const setup = await stack.setup();
    teardown = () => setup.teardown();
    fleet = await startFleet({ dataDir: dir, env: { ...setup.env, AGENTBOX_LOG_LEVEL: 'warn' } });
    api = new FleetApi(fleet.url);
    await api.login('admin', fleet.adminPassword);
    const claimToken = await api.createClaimToken({ maxUses: BOXES });
    const enrolled = await provisionBoxes(fleet.url, claimToken, BOXES, { prefix: 'fanout', concurrency: 8 });
    const url = enrolled[0]!.mqtt.url;
    boxes = await connectAll(
      url,
      enrolled.map(({ deviceId, mqtt }) => ({ deviceId, password: mqtt.password })),
      50,
    );
    // Each box has its first document (version 0, published when it came online) before the assignment.
    await waitFor(
      'every box has its first document',
      () => boxes.boxes.every((box) => box.desired.length > 0),
      {
        timeoutMs: 60_000,
      },
    );
    await send('POST', '/api/v1/providers', { id: 'local', name: 'Local', baseUrl: 'http://127.0.0.1:9/v1' });
    await send('POST', '/api/v1/agents', {
      id: 'fanout',
      definition: { name: 'Fan-out', instructions: 'Answer.', model: { provider: 'local', model: 'm' } },
    });
  }, 300_000);

  afterAll(async () => {
    if (boxes) await closeAll(boxes);
    await fleet?.kill('SIGTERM');
    await teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 202 with a job, follows it to done, and every box gets the agent at a new version', async () => {
    const before = new Map(boxes.boxes.map((box) => [box.deviceId, box.desired.at(-1)!.version]));
    const accepted = await send<AssignmentAcceptedDto>('POST', '/api/v1/assignments', {
      agentId: 'fanout',
      target: { type: 'all' },
    });
    expect(accepted.status).toBe(202);
    const started = accepted.body.job!;
    expect(started).toMatchObject({ assignmentId: accepted.body.id, target: { type: 'all' }, total: BOXES });
    expect(['running', 'done']).toContain(started.state);

    const seen: AssignmentJobDto[] = [];
    const job = await waitFor(
      'the assignment job done',
      async () => {
        const read = (await send<AssignmentJobDto>('GET', `/api/v1/assignment-jobs/${started.id}`)).body;
        seen.push(read);
        return read.state === 'running' ? undefined : read;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    expect(job).toMatchObject({ state: 'done', total: BOXES, done: BOXES, failed: 0, error: null });
    // Counts only grow while the job runs.
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]!.done).toBeGreaterThanOrEqual(seen[i - 1]!.done);

    await waitFor(
      'every box holds the agent',
      () => boxes.boxes.every((box) => box.desired.at(-1)?.spec.agents?.some((a) => a.id === 'fanout')),
      { timeoutMs: 30_000 },
    );
    for (const box of boxes.boxes) {
      const latest = box.desired.at(-1)!;
      expect(latest.version).toBeGreaterThan(before.get(box.deviceId)!);
      expect(latest.spec.agents).toEqual([expect.objectContaining({ id: 'fanout', version: 1 })]);
      expect(latest.spec.providers?.map((p) => p.id)).toEqual(['local']);
    }
    // What the boxes got is what the service stored, version included.
    const sample = boxes.boxes[BOXES - 1]!;
    const stored = (await send<DesiredStateResponse>('GET', `/api/v1/devices/${sample.deviceId}/desired`))
      .body;
    expect(stored.desired?.version).toBe(sample.desired.at(-1)!.version);

    // The same assignment again changes nothing: 200, no job, no new document.
    const versions = boxes.boxes.map((box) => box.desired.length);
    const again = await send<AssignmentAcceptedDto>('POST', '/api/v1/assignments', {
      agentId: 'fanout',
      target: { type: 'all' },
    });
    expect(again.status).toBe(200);
    expect(again.body.job).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(boxes.boxes.map((box) => box.desired.length)).toEqual(versions);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { AgentDefinitionSchema, type DesiredAgent, type Trigger } from '@agentbox/schemas';
import type { RunTrigger, TriggerOutcome } from '../agents.contracts.js';
import { AgentSchedules } from './agent-schedules.js';

const agent = (id: string, triggers: Trigger[], version = 1): DesiredAgent => ({
  id,
  version,
  definition: AgentDefinitionSchema.parse({
    name: id,
    instructions: 'Work.',
    model: { provider: 'p', model: 'm' },
    triggers,
  }),
});

describe('AgentSchedules', () => {
  const fired: { agentId: string; trigger: RunTrigger; input: string | undefined; at: number }[] = [];
  const warnings: Record<string, unknown>[] = [];
  let sut: AgentSchedules | undefined;

  afterEach(() => {
    sut?.stop();
    fired.length = 0;
    warnings.length = 0;
  });

  function build(outcome: TriggerOutcome = { accepted: true, runId: 'run-00000001', queued: false }) {
    sut = new AgentSchedules(
      (agentId, trigger, input) => {
        fired.push({ agentId, trigger, input, at: Date.now() });
        return outcome;
      },
      { log: () => undefined, warn: (_message, fields) => warnings.push(fields ?? {}) },
    );
    return sut;
  }

  it('fires interval and cron (six-field) schedules with their input', async () => {
    const schedules = build();
    const started = Date.now();
    schedules.sync([
      agent('ticker', [{ type: 'interval', everySec: 1, input: 'tick' }]),
      agent('crony', [{ type: 'cron', expression: '* * * * * *', input: 'cron says hi' }]),
    ]);
    await expect
      .poll(() => fired.filter((f) => f.agentId === 'ticker').length, { timeout: 3_500 })
      .toBeGreaterThanOrEqual(2);
    const ticks = fired.filter((f) => f.agentId === 'ticker');
    expect(ticks[0]!.at - started).toBeGreaterThanOrEqual(900); // not at once: after one interval
    expect(ticks[0]).toMatchObject({ trigger: { type: 'interval', detail: 'every 1 s' }, input: 'tick' });
    const cron = fired.find((f) => f.agentId === 'crony');
    expect(cron).toMatchObject({ trigger: { type: 'cron', detail: '* * * * * *' }, input: 'cron says hi' });
    expect(schedules.nextRuns('crony')).toHaveLength(1);
  });

  it('re-arms a schedule when the agent changes, leaves it alone when not, clears it on remove', async () => {
    const schedules = build();
    schedules.sync([agent('slow', [{ type: 'interval', everySec: 3600 }])]);
    schedules.sync([agent('slow', [{ type: 'interval', everySec: 3600 }], 2)]); // same triggers: kept
    expect(fired).toHaveLength(0);
    schedules.sync([agent('slow', [{ type: 'interval', everySec: 1 }], 3)]);
    await expect.poll(() => fired.length, { timeout: 2_500 }).toBeGreaterThanOrEqual(1);
    schedules.sync([]);
    expect(schedules.armedAgents()).toEqual([]);
    const count = fired.length;
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(fired.length).toBe(count);
  });

  it('arms nothing for message and webhook triggers, and reports a cron expression croner refuses', () => {
    const schedules = build();
    schedules.sync([
      agent('console-only', [{ type: 'message' }, { type: 'webhook' }]),
      agent('bad-cron', [{ type: 'cron', expression: '99 99 * * * *' }]),
    ]);
    expect(schedules.armedAgents()).toEqual(['bad-cron']);
    expect(schedules.problems('bad-cron')[0]).toMatch(/cron "99 99 \* \* \* \*" cannot be scheduled/);
    expect(warnings).toHaveLength(1);
  });

  it('stops every schedule on stop()', async () => {
    const schedules = build({ accepted: false, reason: 'busy' });
    schedules.sync([agent('ticker', [{ type: 'interval', everySec: 1 }])]);
    schedules.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(fired).toHaveLength(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { CommandMessage } from '@agentbox/schemas';
import type { TriggerOutcome } from '../agents.contracts.js';
import { runAgentCommand } from './agent-run-command.js';
import { agentWithTriggers } from '../../../../test/support/agent-fixtures.js';

const agent = agentWithTriggers;
const agents = new Map([
  ['helper', agent('helper', [{ type: 'message' }])],
  ['cron-only', agent('cron-only', [{ type: 'interval', everySec: 60 }])],
]);
const command = (args: Record<string, unknown>): CommandMessage => ({
  v: 1,
  id: 'cmd-0001',
  name: 'agent.run',
  args,
  issuedAt: 1,
  expiresAt: Date.now() + 60_000,
});

describe('runAgentCommand', () => {
  const fire = (agentId: string): TriggerOutcome =>
    agentId === 'helper'
      ? { accepted: true, runId: 'run-abcdef01', queued: true }
      : { accepted: false, reason: 'no' };

  it('starts a run and answers its id', async () => {
    const calls: unknown[] = [];
    const outcome = await runAgentCommand(
      command({ agentId: 'helper', input: 'Check the disk.' }),
      (id) => agents.get(id),
      (...args) => {
        calls.push(args);
        return fire(args[0]);
      },
    );
    expect(outcome).toEqual({ status: 'succeeded', output: { runId: 'run-abcdef01', queued: true } });
    expect(calls).toEqual([
      ['helper', { type: 'message', detail: 'cmd-0001' }, 'Check the disk.', undefined],
    ]);
  });

  it("passes a message's conversation on, and drops arguments it does not know (as an older box does)", async () => {
    const calls: unknown[] = [];
    const outcome = await runAgentCommand(
      command({ agentId: 'helper', input: 'And now?', conversationId: 'conv-0001', future: 1 }),
      (id) => agents.get(id),
      (...args) => {
        calls.push(args);
        return fire(args[0]);
      },
    );
    expect(outcome).toMatchObject({ status: 'succeeded' });
    expect(calls).toEqual([['helper', { type: 'message', detail: 'cmd-0001' }, 'And now?', 'conv-0001']]);
    expect(
      await runAgentCommand(
        command({ agentId: 'helper', input: 'x', conversationId: 'a b' }),
        () => agents.get('helper'),
        fire,
      ),
    ).toMatchObject({ status: 'rejected', error: expect.stringMatching(/conversationId/) as unknown });
  });

  it('rejects bad arguments, unknown agents, agents without a message trigger, and refused runs', async () => {
    const find = (id: string) => agents.get(id);
    expect(await runAgentCommand(command({ agentId: 'helper' }), find, fire)).toMatchObject({
      status: 'rejected',
      error: expect.stringMatching(/^invalid agent.run arguments: input/) as unknown,
    });
    expect(await runAgentCommand(command({ agentId: 'Bad Id', input: 'x' }), find, fire)).toMatchObject({
      status: 'rejected',
    });
    expect(await runAgentCommand(command({ agentId: 'ghost', input: 'x' }), find, fire)).toEqual({
      status: 'rejected',
      error: 'agent ghost is not installed on this box',
    });
    expect(await runAgentCommand(command({ agentId: 'cron-only', input: 'x' }), find, fire)).toEqual({
      status: 'rejected',
      error: 'agent cron-only does not take tasks from the console (no message trigger)',
    });
    const refusing = () => ({ accepted: false as const, reason: 'the queue of helper is full (10)' });
    expect(await runAgentCommand(command({ agentId: 'helper', input: 'x' }), find, refusing)).toEqual({
      status: 'rejected',
      error: 'the queue of helper is full (10)',
    });
  });
});

import { describe, expect, it } from 'vitest';
import { AgentDefinitionSchema, ReportedAgentSchema, type DesiredAgent } from '@agentbox/schemas';
import type { StepFailure } from '../reconciler/agent-reconciler.js';
import { reportedAgents, type ReportedAgentsInput } from './reported-agents.js';

const agent = (id: string, version: number, provider: string, fallback?: string): DesiredAgent => ({
  id,
  version,
  definition: AgentDefinitionSchema.parse({
    name: id,
    instructions: 'Work.',
    model: { provider, model: 'm' },
    fallbacks: fallback ? [{ provider: fallback, model: 'f' }] : [],
  }),
});

const base = (overrides: Partial<ReportedAgentsInput>): ReportedAgentsInput => ({
  installed: [],
  runtime: {},
  pending: [],
  failures: new Map(),
  providerProblem: () => undefined,
  hasProvider: () => true,
  ...overrides,
});

describe('reportedAgents', () => {
  it('reports the supervisor view of installed agents, and agents still installing', () => {
    const out = reportedAgents(
      base({
        installed: [agent('a', 2, 'p')],
        runtime: {
          a: { version: 2, status: 'running', queued: 1, tokensToday: 40, lastRunStatus: 'succeeded' },
        },
        pending: [{ action: 'install-agent', agent: agent('b', 1, 'p') }],
      }),
    );
    expect(out).toEqual({
      a: { version: 2, status: 'running', queued: 1, tokensToday: 40, lastRunStatus: 'succeeded' },
      b: { version: 1, status: 'installing', queued: 0, tokensToday: 0 },
    });
    for (const value of Object.values(out)) expect(ReportedAgentSchema.parse(value)).toEqual(value);
  });

  it("shows 'error' with the reason for agents whose provider key could not be opened", () => {
    const out = reportedAgents(
      base({
        installed: [agent('a', 1, 'good', 'broken'), agent('b', 1, 'good')],
        providerProblem: (id) =>
          id === 'broken' ? 'provider broken v1: its API key could not be opened' : undefined,
      }),
    );
    expect(out.a).toMatchObject({
      status: 'error',
      detail: 'provider broken v1: its API key could not be opened',
    });
    expect(out.b).toMatchObject({ status: 'idle' });
  });

  it("shows 'error' when none of the agent's providers is on the box, not when only a fallback is missing", () => {
    const out = reportedAgents(
      base({
        installed: [agent('a', 1, 'gone'), agent('b', 1, 'here', 'gone')],
        hasProvider: (id) => id === 'here',
      }),
    );
    expect(out.a).toMatchObject({ status: 'error', detail: 'provider gone is not configured on this box' });
    expect(out.b?.status).toBe('idle');
  });

  it('reports an installation that keeps failing', () => {
    const step = { action: 'install-agent' as const, agent: agent('c', 4, 'p') };
    const failure: StepFailure = {
      step,
      description: 'install agent c v4',
      message: 'disk full',
      failures: 3,
      at: 1,
    };
    const out = reportedAgents(base({ pending: [step], failures: new Map([['k', failure]]) }));
    expect(out.c).toEqual({
      version: 4,
      status: 'error',
      detail: 'install agent c v4 failed 3x: disk full',
      queued: 0,
      tokensToday: 0,
    });
  });
});

import {
  AgentDefinitionSchema,
  type DesiredAgent,
  type RunRecord,
  type Trigger,
  type UsageRecord,
} from '@agentbox/schemas';

/** An installed agent with these triggers and defaults for everything else. */
export const agentWithTriggers = (id: string, triggers: Trigger[]): DesiredAgent => ({
  id,
  version: 1,
  definition: AgentDefinitionSchema.parse({
    name: id,
    instructions: 'Work.',
    model: { provider: 'p', model: 'm' },
    triggers,
  }),
});

/** A run record of agent `triage` created at 1000, with no steps and no tokens yet. */
export const runRecord = (
  id: string,
  status: RunRecord['status'],
  patch: Partial<RunRecord> = {},
): RunRecord => ({
  id,
  agentId: 'triage',
  agentVersion: 1,
  trigger: { type: 'interval' },
  status,
  createdAt: 1_000,
  steps: 0,
  usage: { inputTokens: 0, outputTokens: 0 },
  ...patch,
});

/** A usage record of one model call of agent `triage` at 1000: 10 tokens in, 5 out, counted by the provider. */
export const usageRecord = (id: string, patch: Partial<UsageRecord> = {}): UsageRecord => ({
  id,
  agentId: 'triage',
  runId: 'run-00000001',
  provider: 'deepseek',
  model: 'deepseek-chat',
  ts: 1_000,
  inputTokens: 10,
  outputTokens: 5,
  estimated: false,
  outcome: 'ok',
  ...patch,
});

import { describe, expect, it } from 'vitest';
import { MetricNameSchema } from '@agentbox/schemas';
import { AgentUsageMetrics, agentMetricName } from './agent-usage-metrics.js';

describe('AgentUsageMetrics', () => {
  it('names metrics after the agent id with "-" as "_", valid for the wire contract', () => {
    expect(agentMetricName('log-triage-2', 'tokens_in')).toBe('agent.log_triage_2.tokens_in');
    expect(MetricNameSchema.safeParse(agentMetricName('9-lives', 'tokens_out')).success).toBe(true);
    expect(MetricNameSchema.safeParse(agentMetricName('a'.repeat(63), 'tokens_out')).success).toBe(true);
  });

  it('sums tokens per agent per minute and hands out each finished minute once', () => {
    let now = 120_000 + 5_000; // minute starting at 120 000
    const sut = new AgentUsageMetrics(() => now);
    sut.add({ agentId: 'triage', inputTokens: 100, outputTokens: 20 });
    sut.add({ agentId: 'triage', inputTokens: 50, outputTokens: 5 });
    sut.add({ agentId: 'digest', inputTokens: 7, outputTokens: 3 });
    expect(sut.takeCompleted()).toEqual([]); // the minute is still running
    now = 180_000 + 1;
    sut.add({ agentId: 'triage', inputTokens: 1, outputTokens: 1 });
    expect(sut.takeCompleted()).toEqual([
      {
        ts: 120_000,
        values: {
          'agent.triage.tokens_in': 150,
          'agent.triage.tokens_out': 25,
          'agent.digest.tokens_in': 7,
          'agent.digest.tokens_out': 3,
        },
      },
    ]);
    expect(sut.takeCompleted()).toEqual([]);
    expect(sut.takeCompleted(240_000)).toEqual([
      { ts: 180_000, values: { 'agent.triage.tokens_in': 1, 'agent.triage.tokens_out': 1 } },
    ]);
    expect(sut.msToNextMinute(240_000 + 15_000)).toBe(45_000);
  });
});

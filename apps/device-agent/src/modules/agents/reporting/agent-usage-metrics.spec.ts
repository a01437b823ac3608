import { describe, expect, it } from 'vitest';
import { MetricNameSchema } from '@agentbox/schemas';
import {
  AgentUsageMetrics,
  MAX_MODEL_SERIES_PER_MINUTE,
  agentMetricName,
  agentModelMetricName,
} from './agent-usage-metrics.js';

const valid = (name: string) => MetricNameSchema.safeParse(name).success;

describe('AgentUsageMetrics', () => {
  it('names metrics after the agent id with "-" as "_", valid for the wire contract', () => {
    expect(agentMetricName('log-triage-2', 'tokens_in')).toBe('agent.log_triage_2.tokens_in');
    expect(valid(agentMetricName('9-lives', 'tokens_out'))).toBe(true);
    expect(valid(agentMetricName('a'.repeat(63), 'tokens_out'))).toBe(true);
  });

  it('names per-model metrics with the model as a slug of [a-z0-9_]', () => {
    expect(agentModelMetricName('log-triage', 'gpt-4.1-mini', 'tokens_in')).toBe(
      'agent.log_triage.gpt_4_1_mini.tokens_in',
    );
    expect(agentModelMetricName('triage', 'Qwen/Qwen2.5-7B-Instruct:Q4', 'tokens_out')).toBe(
      'agent.triage.qwen_qwen2_5_7b_instruct_q4.tokens_out',
    );
    for (const model of ['x', 'ÄÖ 模型', '.', 'a'.repeat(200), 'models/gemini-2.5-flash-preview-05-20']) {
      for (const agentId of ['a', '9-lives', 'z'.repeat(63)]) {
        expect(valid(agentModelMetricName(agentId, model, 'tokens_in'))).toBe(true);
        expect(valid(agentModelMetricName(agentId, model, 'tokens_out'))).toBe(true);
      }
    }
  });

  it('keeps two long model names apart although both are cut to fit', () => {
    const agentId = 'a'.repeat(63);
    const one = agentModelMetricName(agentId, `${'m'.repeat(40)}-one`, 'tokens_in');
    const two = agentModelMetricName(agentId, `${'m'.repeat(40)}-two`, 'tokens_in');
    expect(one).not.toBe(two);
    expect(one.length).toBeLessThanOrEqual(100);
    expect(one.startsWith(`agent.${agentId}.mmm`)).toBe(true);
  });

  it('sums tokens per agent and per agent and model per minute, and hands out each finished minute once', () => {
    let now = 120_000 + 5_000; // minute starting at 120 000
    const sut = new AgentUsageMetrics(() => now);
    sut.add({ agentId: 'triage', model: 'gpt-4o', inputTokens: 100, outputTokens: 20 });
    sut.add({ agentId: 'triage', model: 'gpt-4o', inputTokens: 50, outputTokens: 5 });
    sut.add({ agentId: 'triage', model: 'llama3.2:3b', inputTokens: 30, outputTokens: 4 });
    sut.add({ agentId: 'digest', model: 'gpt-4o', inputTokens: 7, outputTokens: 3 });
    expect(sut.takeCompleted()).toEqual([]); // the minute is still running
    now = 180_000 + 1;
    sut.add({ agentId: 'triage', model: 'gpt-4o', inputTokens: 1, outputTokens: 1 });
    expect(sut.takeCompleted()).toEqual([
      {
        ts: 120_000,
        values: {
          'agent.triage.tokens_in': 180,
          'agent.triage.tokens_out': 29,
          'agent.triage.gpt_4o.tokens_in': 150,
          'agent.triage.gpt_4o.tokens_out': 25,
          'agent.triage.llama3_2_3b.tokens_in': 30,
          'agent.triage.llama3_2_3b.tokens_out': 4,
          'agent.digest.tokens_in': 7,
          'agent.digest.tokens_out': 3,
          'agent.digest.gpt_4o.tokens_in': 7,
          'agent.digest.gpt_4o.tokens_out': 3,
        },
      },
    ]);
    expect(sut.takeCompleted()).toEqual([]);
    expect(sut.takeCompleted(240_000)).toEqual([
      {
        ts: 180_000,
        values: {
          'agent.triage.tokens_in': 1,
          'agent.triage.tokens_out': 1,
          'agent.triage.gpt_4o.tokens_in': 1,
          'agent.triage.gpt_4o.tokens_out': 1,
        },
      },
    ]);
    expect(sut.msToNextMinute(240_000 + 15_000)).toBe(45_000);
  });

  it('past the series cap, further models of an agent are summed as _other; totals stay exact', () => {
    let now = 60_000;
    const sut = new AgentUsageMetrics(() => now);
    for (let i = 0; i < MAX_MODEL_SERIES_PER_MINUTE; i++) {
      sut.add({ agentId: `agent-${i % 7}`, model: `model-${i}`, inputTokens: 1, outputTokens: 1 });
    }
    sut.add({ agentId: 'agent-0', model: 'model-0', inputTokens: 10, outputTokens: 10 }); // a known series
    sut.add({ agentId: 'agent-0', model: 'one-more', inputTokens: 5, outputTokens: 2 });
    sut.add({ agentId: 'agent-0', model: 'and-another', inputTokens: 4, outputTokens: 1 });
    sut.add({ agentId: 'late', model: 'late-model', inputTokens: 3, outputTokens: 3 });
    now = 120_000;

    const [sample] = sut.takeCompleted();
    const values = sample!.values;
    const perModel = Object.keys(values).filter((name) => name.split('.').length === 4);
    // Every capped series plus one _other pair per agent that overflowed.
    expect(perModel).toHaveLength(2 * MAX_MODEL_SERIES_PER_MINUTE + 2 * 2);
    expect(values['agent.agent_0.model_0.tokens_in']).toBe(11);
    expect(values['agent.agent_0._other.tokens_in']).toBe(9);
    expect(values['agent.agent_0._other.tokens_out']).toBe(3);
    expect(values['agent.late._other.tokens_in']).toBe(3);
    expect(values['agent.late.tokens_in']).toBe(3);
    expect(values['agent.agent_0.one_more.tokens_in']).toBeUndefined();
    const agent0Models = Object.entries(values)
      .filter(([name]) => name.startsWith('agent.agent_0.') && name.split('.').length === 4)
      .filter(([name]) => name.endsWith('.tokens_in'))
      .reduce((sum, [, value]) => sum + value, 0);
    expect(agent0Models).toBe(values['agent.agent_0.tokens_in']);
    expect(Object.keys(values).every(valid)).toBe(true);

    // A new minute starts with room again.
    sut.add({ agentId: 'agent-0', model: 'one-more', inputTokens: 1, outputTokens: 1 });
    now = 180_000;
    expect(sut.takeCompleted()[0]!.values['agent.agent_0.one_more.tokens_in']).toBe(1);
  });

  it('never names a model series _other, so the overflow sum stays apart', () => {
    expect(agentModelMetricName('triage', '-other', 'tokens_in')).toMatch(
      /^agent\.triage\._other_[0-9a-f]{8}\.tokens_in$/,
    );
  });
});

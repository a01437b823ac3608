import { METRIC_NAME_PATTERN, type UsageRecord } from '@agentbox/schemas';

const MINUTE_MS = 60_000;

/** `agent.<agent id, "-" as "_">.tokens_in`: agent ids are slugs, so the name always fits the pattern. */
export function agentMetricName(agentId: string, which: 'tokens_in' | 'tokens_out'): string {
  const name = `agent.${agentId.replaceAll('-', '_')}.${which}`;
  if (!METRIC_NAME_PATTERN.test(name)) throw new Error(`agent id ${agentId} gives an invalid metric name`);
  return name;
}

export interface MinuteSample {
  /** Start of the minute. */
  ts: number;
  values: Record<string, number>;
}

/**
 * Tokens per agent per minute, for telemetry. Usage is counted in the minute it was reported in
 * (not the minute its call started), so each minute is complete when it is taken and sent once.
 */
export class AgentUsageMetrics {
  private readonly minutes = new Map<number, Map<string, { in: number; out: number }>>();

  constructor(private readonly clock: () => number = Date.now) {}

  add(usage: Pick<UsageRecord, 'agentId' | 'inputTokens' | 'outputTokens'>): void {
    const minute = Math.floor(this.clock() / MINUTE_MS) * MINUTE_MS;
    let agents = this.minutes.get(minute);
    if (!agents) {
      agents = new Map();
      this.minutes.set(minute, agents);
    }
    const totals = agents.get(usage.agentId) ?? { in: 0, out: 0 };
    totals.in += usage.inputTokens;
    totals.out += usage.outputTokens;
    agents.set(usage.agentId, totals);
  }

  /** The minutes that have ended, oldest first, removed from the aggregator. */
  takeCompleted(now = this.clock()): MinuteSample[] {
    const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const done: MinuteSample[] = [];
    for (const [minute, agents] of [...this.minutes].sort(([a], [b]) => a - b)) {
      if (minute >= current) continue;
      const values: Record<string, number> = {};
      for (const [agentId, totals] of agents) {
        values[agentMetricName(agentId, 'tokens_in')] = totals.in;
        values[agentMetricName(agentId, 'tokens_out')] = totals.out;
      }
      done.push({ ts: minute, values });
      this.minutes.delete(minute);
    }
    return done;
  }

  /** Milliseconds until the current minute ends. */
  msToNextMinute(now = this.clock()): number {
    return MINUTE_MS - (now % MINUTE_MS);
  }
}

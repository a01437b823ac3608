import { createHash } from 'node:crypto';
import { METRIC_NAME_PATTERN, type UsageRecord } from '@agentbox/schemas';

const MINUTE_MS = 60_000;
const METRIC_NAME_MAX = 100;
const LONGEST_SUFFIX = '.tokens_out';

/**
 * Distinct agent-and-model series in one minute. A box runs a handful of agents on a model or two each;
 * a definition that keeps switching models must not turn telemetry into an unbounded set of names.
 */
export const MAX_MODEL_SERIES_PER_MINUTE = 100;
/** Where an agent's tokens go once the minute has no room for another model series. */
export const OTHER_MODELS_SLUG = '_other';

export type TokenMetric = 'tokens_in' | 'tokens_out';

/** `agent.<agent id, "-" as "_">.tokens_in`: agent ids are slugs, so the name always fits the pattern. */
export function agentMetricName(agentId: string, which: TokenMetric): string {
  return checked(`${agentPrefix(agentId)}.${which}`, agentId);
}

/**
 * `agent.<agent id>.<model slug>.tokens_in`. The slug is the model name in lower case with anything
 * outside [a-z0-9_] as "_"; one too long for the 100-character name limit is cut and ends in a short
 * hash of the full name, so two long names stay apart.
 */
export function agentModelMetricName(agentId: string, model: string, which: TokenMetric): string {
  return checked(`${agentPrefix(agentId)}.${modelSlug(agentId, model)}.${which}`, agentId);
}

/** The model part of {@link agentModelMetricName}, the same for both token metrics. */
export function modelSlug(agentId: string, model: string): string {
  const room = METRIC_NAME_MAX - agentPrefix(agentId).length - 1 - LONGEST_SUFFIX.length;
  const slug = model.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (slug.length <= room && slug !== OTHER_MODELS_SLUG) return slug;
  const hash = createHash('sha256').update(model).digest('hex').slice(0, 8);
  return `${slug.slice(0, Math.max(1, room - hash.length - 1))}_${hash}`;
}

function agentPrefix(agentId: string): string {
  return `agent.${agentId.replaceAll('-', '_')}`;
}

function checked(name: string, agentId: string): string {
  if (name.length > METRIC_NAME_MAX || !METRIC_NAME_PATTERN.test(name))
    throw new Error(`agent id ${agentId} gives an invalid metric name`);
  return name;
}

export interface MinuteSample {
  /** Start of the minute. */
  ts: number;
  values: Record<string, number>;
}

interface Tokens {
  in: number;
  out: number;
}

interface AgentMinute {
  totals: Tokens;
  /** By model slug. */
  models: Map<string, Tokens>;
}

interface Minute {
  agents: Map<string, AgentMinute>;
  modelSeries: number;
}

/**
 * Tokens per agent, and per agent and model, per minute, for telemetry. Usage is counted in the minute
 * it was reported in (not the minute its call started), so each minute is complete when it is taken
 * and sent once. Past {@link MAX_MODEL_SERIES_PER_MINUTE} agent-and-model series in a minute, further
 * models of an agent are summed under {@link OTHER_MODELS_SLUG}; the per-agent totals stay exact.
 */
export class AgentUsageMetrics {
  private readonly minutes = new Map<number, Minute>();

  constructor(private readonly clock: () => number = Date.now) {}

  add(usage: Pick<UsageRecord, 'agentId' | 'model' | 'inputTokens' | 'outputTokens'>): void {
    const start = Math.floor(this.clock() / MINUTE_MS) * MINUTE_MS;
    let minute = this.minutes.get(start);
    if (!minute) {
      minute = { agents: new Map(), modelSeries: 0 };
      this.minutes.set(start, minute);
    }
    let agent = minute.agents.get(usage.agentId);
    if (!agent) {
      agent = { totals: { in: 0, out: 0 }, models: new Map() };
      minute.agents.set(usage.agentId, agent);
    }
    addTokens(agent.totals, usage);

    let slug = modelSlug(usage.agentId, usage.model);
    if (!agent.models.has(slug)) {
      if (minute.modelSeries >= MAX_MODEL_SERIES_PER_MINUTE) slug = OTHER_MODELS_SLUG;
      else minute.modelSeries++;
    }
    let model = agent.models.get(slug);
    if (!model) {
      model = { in: 0, out: 0 };
      agent.models.set(slug, model);
    }
    addTokens(model, usage);
  }

  /** The minutes that have ended, oldest first, removed from the aggregator. */
  takeCompleted(now = this.clock()): MinuteSample[] {
    const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const done: MinuteSample[] = [];
    for (const [start, minute] of [...this.minutes].sort(([a], [b]) => a - b)) {
      if (start >= current) continue;
      const values: Record<string, number> = {};
      for (const [agentId, agent] of minute.agents) {
        values[agentMetricName(agentId, 'tokens_in')] = agent.totals.in;
        values[agentMetricName(agentId, 'tokens_out')] = agent.totals.out;
        const prefix = agentPrefix(agentId);
        for (const [slug, tokens] of agent.models) {
          values[checked(`${prefix}.${slug}.tokens_in`, agentId)] = tokens.in;
          values[checked(`${prefix}.${slug}.tokens_out`, agentId)] = tokens.out;
        }
      }
      done.push({ ts: start, values });
      this.minutes.delete(start);
    }
    return done;
  }

  /** Milliseconds until the current minute ends. */
  msToNextMinute(now = this.clock()): number {
    return MINUTE_MS - (now % MINUTE_MS);
  }
}

function addTokens(into: Tokens, usage: Pick<UsageRecord, 'inputTokens' | 'outputTokens'>): void {
  into.in += usage.inputTokens;
  into.out += usage.outputTokens;
}

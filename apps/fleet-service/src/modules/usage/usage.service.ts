import { Injectable } from '@nestjs/common';
import { type UsageQuerySchema, type UsageResponse, type UsageSummary } from '@agentbox/schemas';
import type { z } from 'zod';
import { CommonException } from '../../common/errors/domain-exception.js';
import { AgentFleetService } from '../agents/agent-fleet.service.js';
import { UsageStore } from './usage.store.js';

type UsageQuery = z.output<typeof UsageQuerySchema>;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const DEFAULT_RANGE_MS = 7 * DAY_MS;
/** Points per series at most (a year and more of hours). */
const MAX_BUCKETS = 10_000;
const TOP = 5;

/** Token usage: time series by agent, box, model or provider, and the dashboard's summary. */
@Injectable()
export class UsageService {
  constructor(
    private readonly store: UsageStore,
    private readonly fleet: AgentFleetService,
  ) {}

  async series(query: UsageQuery, now = Date.now()): Promise<UsageResponse> {
    const toMs = query.to ? Date.parse(query.to) : now;
    const fromMs = query.from ? Date.parse(query.from) : toMs - DEFAULT_RANGE_MS;
    if (fromMs >= toMs) {
      throw new CommonException('VALIDATION_FAILED', 'Invalid request: from must be before to');
    }
    const bucketMs = query.bucket === 'hour' ? HOUR_MS : DAY_MS;
    const firstBucket = fromMs - (fromMs % bucketMs);
    const count = Math.ceil((toMs - firstBucket) / bucketMs);
    if (count > MAX_BUCKETS) {
      throw new CommonException(
        'VALIDATION_FAILED',
        `Invalid request: ${count} ${query.bucket} buckets requested; at most ${MAX_BUCKETS}`,
      );
    }
    const filter = { fromMs, toMs, deviceId: query.deviceId, agentId: query.agentId };
    const [rows, totals] = await Promise.all([
      this.store.buckets(filter, bucketMs, query.groupBy),
      this.store.totals(filter),
    ]);
    const byKey = new Map<string, Map<number, { inputTokens: number; outputTokens: number }>>();
    if (!query.groupBy) byKey.set('all', new Map());
    for (const row of rows) {
      const points = byKey.get(row.key) ?? new Map<number, { inputTokens: number; outputTokens: number }>();
      points.set(row.bucket, { inputTokens: row.inputTokens, outputTokens: row.outputTokens });
      byKey.set(row.key, points);
    }
    const starts = Array.from({ length: count }, (_, i) => firstBucket + i * bucketMs);
    const series = [...byKey.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, points]) => ({
        key,
        points: starts.map((start) => ({
          start: new Date(start).toISOString(),
          ...(points.get(start) ?? { inputTokens: 0, outputTokens: 0 }),
        })),
      }));
    return {
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      bucket: query.bucket,
      groupBy: query.groupBy ?? null,
      series,
      totals,
    };
  }

  async summary(now = Date.now()): Promise<UsageSummary> {
    const today = now - (now % DAY_MS);
    const weekStart = today - 6 * DAY_MS;
    const end = now + 1;
    const [todayTotals, weekTotals, topAgents, topDevices, budgetPerDay] = await Promise.all([
      this.store.totals({ fromMs: today, toMs: end }),
      this.store.totals({ fromMs: weekStart, toMs: end }),
      this.store.top({ fromMs: weekStart, toMs: end }, 'agent', TOP),
      this.store.top({ fromMs: weekStart, toMs: end }, 'device', TOP),
      this.fleet.budgetPerDay(),
    ]);
    return {
      today: { inputTokens: todayTotals.inputTokens, outputTokens: todayTotals.outputTokens },
      week: { inputTokens: weekTotals.inputTokens, outputTokens: weekTotals.outputTokens },
      budgetPerDay,
      topAgents: topAgents.map((row) => ({ agentId: row.key, tokens: row.tokens })),
      topDevices: topDevices.map((row) => ({ deviceId: row.key, tokens: row.tokens })),
    };
  }
}

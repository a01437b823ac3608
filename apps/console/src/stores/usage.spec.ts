// @vitest-environment node
import type { UsageRecord } from '@agentbox/schemas';
import { describe, expect, it } from 'vitest';
import type { UsageSummary } from '@/api/types';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { useUsageStore } from './usage';

const usageRecord = (id: string): UsageRecord => ({
  id,
  agentId: 'daily-report',
  provider: 'deepseek',
  model: 'deepseek-chat',
  inputTokens: 100,
  outputTokens: 20,
  ts: Date.now(),
  estimated: false,
  outcome: 'ok',
});

describe('usage store', () => {
  let server: FleetServer;
  let summary: UsageSummary;
  let seriesCalls: URLSearchParams[];
  let delaySeries: Promise<void> | null;

  useFleetServer((fleet) => {
    summary = {
      today: { inputTokens: 1000, outputTokens: 200 },
      week: { inputTokens: 5000, outputTokens: 1000 },
      budgetPerDay: 4800,
      topAgents: [{ agentId: 'daily-report', tokens: 6000 }],
      topDevices: [{ deviceId: 'box-1', tokens: 6000 }],
    };
    seriesCalls = [];
    delaySeries = null;
    server = fleet;
    server.route('GET', '/api/v1/usage/summary', () => ({ status: 200, body: summary }));
    server.route('GET', '/api/v1/usage', async (_req, url) => {
      seriesCalls.push(url.searchParams);
      const groupBy = url.searchParams.get('groupBy');
      if (delaySeries) await delaySeries;
      return {
        status: 200,
        body: {
          from: url.searchParams.get('from'),
          to: url.searchParams.get('to'),
          bucket: url.searchParams.get('bucket'),
          groupBy,
          series: [
            {
              key: groupBy === 'model' ? 'deepseek/deepseek-chat' : 'daily-report',
              points: [{ start: '2026-11-27T00:00:00.000Z', inputTokens: 5000, outputTokens: 1000 }],
            },
          ],
          totals: { inputTokens: 5000, outputTokens: 1000, estimatedRecords: 0 },
        },
      };
    });
  });

  it('loads the headline figures and the series of the chosen range, stacking and bucket', async () => {
    const sut = useUsageStore();
    const now = Date.parse('2026-11-27T12:00:00.000Z');
    await sut.load({}, now);
    expect(sut.today).toBe(1200);
    expect(sut.week).toBe(6000);
    expect(sut.budgetUsed).toBeCloseTo(0.25);
    expect(sut.rangeTotal).toBe(6000);
    expect(sut.hasUsage).toBe(true);
    expect(seriesCalls[0]?.get('bucket')).toBe('day');
    expect(seriesCalls[0]?.get('groupBy')).toBe('agent');
    expect(seriesCalls[0]?.get('from')).toBe('2026-11-20T12:00:00.000Z');

    await sut.load({ range: '24h', stackBy: 'model' }, now);
    expect(sut.bucket).toBe('hour');
    expect(seriesCalls[1]?.get('bucket')).toBe('hour');
    expect(seriesCalls[1]?.get('groupBy')).toBe('model');
    expect(seriesCalls[1]?.get('from')).toBe('2026-11-26T12:00:00.000Z');
    expect(sut.series?.series[0]?.key).toBe('deepseek/deepseek-chat');
  });

  it('says when the fleet has not used a token yet, and has no budget share without a budget', async () => {
    summary = {
      today: { inputTokens: 0, outputTokens: 0 },
      week: { inputTokens: 0, outputTokens: 0 },
      budgetPerDay: 0,
      topAgents: [],
      topDevices: [],
    };
    server.route('GET', '/api/v1/usage', (_req, url) => ({
      status: 200,
      body: {
        from: url.searchParams.get('from'),
        to: url.searchParams.get('to'),
        bucket: 'day',
        groupBy: 'agent',
        series: [],
        totals: { inputTokens: 0, outputTokens: 0, estimatedRecords: 0 },
      },
    }));
    const sut = useUsageStore();
    await sut.load();
    expect(sut.hasUsage).toBe(false);
    expect(sut.budgetUsed).toBeNull();
  });

  it('refetches once per burst of live usage', async () => {
    const sut = useUsageStore();
    // Before the dashboard loaded anything there is nothing to refresh.
    sut.applyLiveEvent({ type: 'usage', deviceId: 'box-1', records: [usageRecord('usage-0001')] }, 20);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(seriesCalls).toHaveLength(0);

    await sut.load();
    summary = { ...summary, today: { inputTokens: 1100, outputTokens: 220 } };
    for (const id of ['usage-0002', 'usage-0003', 'usage-0004'])
      sut.applyLiveEvent({ type: 'usage', deviceId: 'box-1', records: [usageRecord(id)] }, 20);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(seriesCalls).toHaveLength(2);
    expect(sut.today).toBe(1320);
    expect(sut.liveUpdates).toBe(4);
  });

  it('shows the answer of the newest request when an older one arrives late', async () => {
    const sut = useUsageStore();
    let release: () => void = () => undefined;
    delaySeries = new Promise<void>((resolve) => (release = resolve));
    const slow = sut.load({ stackBy: 'agent' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    delaySeries = null;
    await sut.load({ stackBy: 'model' });
    release();
    await slow;
    expect(sut.series?.groupBy).toBe('model');
    expect(sut.stackBy).toBe('model');
  });
});

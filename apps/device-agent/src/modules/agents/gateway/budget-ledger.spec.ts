import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { BudgetLedger, nextUtcMidnight } from './budget-ledger.js';

const budget = { tokensPerDay: 1_000, tokensPerRun: 300 };
const NOON = Date.UTC(2026, 10, 27, 12, 0, 0);

describe('BudgetLedger', () => {
  const dir = useTempDir('budget-ledger-');
  let db: Database.Database;
  let now: number;
  let sut: BudgetLedger;

  const open = () => {
    db = new Database(join(dir.path, 'agents.db'));
    return new BudgetLedger(db, { now: () => now });
  };

  beforeEach(() => {
    now = NOON;
    sut = open();
  });

  afterEach(() => {
    db.close();
  });

  it('holds reservations against the run budget and settles them to the real usage', () => {
    const first = sut.reserve({ agentId: 'a1', runId: 'run-1', tokens: 200, budget });
    expect(first).toMatchObject({ ok: true, tokens: 200 });

    // 200 held + 200 > 300
    expect(sut.reserve({ agentId: 'a1', runId: 'run-1', tokens: 200, budget })).toEqual({
      ok: false,
      budget: 'run',
      remaining: 100,
    });

    expect(sut.settle(first.ok ? first.reservationId : '', 50)).toBe(true);
    expect(sut.usedByRun('run-1')).toBe(50);
    expect(sut.usedToday('a1')).toBe(50);
    expect(sut.reserve({ agentId: 'a1', runId: 'run-1', tokens: 200, budget }).ok).toBe(true);
    // a settled reservation cannot be settled or released again
    expect(sut.settle(first.ok ? first.reservationId : '', 10)).toBe(false);
    expect(sut.usedByRun('run-1')).toBe(50);
  });

  it('refuses past the day budget until the next UTC day, across runs', () => {
    for (const run of ['r1', 'r2', 'r3']) {
      const r = sut.reserve({ agentId: 'a1', runId: run, tokens: 300, budget });
      if (!r.ok) throw new Error('expected a grant');
      sut.settle(r.reservationId, 300);
    }
    expect(sut.usedToday('a1')).toBe(900);

    const refused = sut.reserve({ agentId: 'a1', runId: 'r4', tokens: 200, budget });
    expect(refused).toEqual({ ok: false, budget: 'day', remaining: 100, resetsAt: Date.UTC(2026, 10, 28) });
    // another agent has a day of its own
    expect(sut.reserve({ agentId: 'a2', runId: 'r5', tokens: 200, budget }).ok).toBe(true);

    now = nextUtcMidnight(NOON);
    expect(sut.usedToday('a1')).toBe(0);
    expect(sut.reserve({ agentId: 'a1', runId: 'r4', tokens: 200, budget }).ok).toBe(true);
  });

  it('grants less than asked down to minTokens, and refuses below it', () => {
    const big = sut.reserve({ agentId: 'a1', runId: 'r1', tokens: 250, budget });
    expect(big.ok).toBe(true);

    expect(sut.reserve({ agentId: 'a1', runId: 'r1', tokens: 200, minTokens: 30, budget })).toMatchObject({
      ok: true,
      tokens: 50,
    });
    expect(sut.reserve({ agentId: 'a1', runId: 'r1', tokens: 200, minTokens: 1, budget })).toMatchObject({
      ok: false,
      budget: 'run',
      remaining: 0,
    });
  });

  it('frees released reservations', () => {
    const r = sut.reserve({ agentId: 'a1', runId: 'r1', tokens: 300, budget });
    if (!r.ok) throw new Error('expected a grant');
    expect(sut.reserve({ agentId: 'a1', runId: 'r1', tokens: 1, budget }).ok).toBe(false);

    expect(sut.release(r.reservationId)).toBe(true);

    expect(sut.reserve({ agentId: 'a1', runId: 'r1', tokens: 300, budget }).ok).toBe(true);
    expect(sut.usedByRun('r1')).toBe(0);
  });

  it('drops reservations left over from a crash when it opens, and keeps settled usage', () => {
    const settled = sut.reserve({ agentId: 'a1', runId: 'r1', tokens: 100, budget, id: 'usage-0001' });
    expect(settled).toMatchObject({ ok: true, reservationId: 'usage-0001' });
    sut.settle('usage-0001', 80);
    sut.reserve({ agentId: 'a1', runId: 'r1', tokens: 220, budget });
    expect(sut.reserve({ agentId: 'a1', runId: 'r1', tokens: 1, budget }).ok).toBe(false);
    db.close();

    sut = open();

    expect(sut.usedByRun('r1')).toBe(80);
    expect(sut.reserve({ agentId: 'a1', runId: 'r1', tokens: 220, budget }).ok).toBe(true);
  });
});

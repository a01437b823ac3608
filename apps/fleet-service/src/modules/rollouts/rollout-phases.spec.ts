import { describe, expect, it } from 'vitest';
import { planPhases } from './rollout-phases.js';
import type { PhasePlan } from './rollout-state.js';

const PLAN: PhasePlan = [
  { name: 'canary', count: 1 },
  { name: 'ten', percent: 10 },
  { name: 'half', percent: 50 },
  { name: 'all', percent: 100 },
];

describe('planPhases', () => {
  it('turns counts and percentages into cumulative ends, the last reaching every box', () => {
    expect(planPhases(PLAN, 20).map((phase) => phase.end)).toEqual([1, 2, 10, 20]);
    expect(planPhases([{ name: 'a', count: 5 }], 20).map((phase) => phase.end)).toEqual([20]);
    expect(
      planPhases(
        [
          { name: 'a', count: 50 },
          { name: 'b', count: 3 },
        ],
        20,
      ).map((p) => p.end),
    ).toEqual([20, 20]);
  });

  it('grows exponential phases by the factor', () => {
    expect(planPhases({ exponential: { start: 1, factor: 2 } }, 10).map((phase) => phase.end)).toEqual([
      1, 2, 4, 8, 10,
    ]);
    // A factor that would not grow still adds a box per phase.
    expect(planPhases({ exponential: { start: 2, factor: 1 } }, 4).map((phase) => phase.end)).toEqual([
      2, 3, 4,
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  boxesThatCannotUpdate,
  newRolloutDraft,
  validateRolloutDraft,
  type RolloutDraft,
} from './rollout-draft';

function draft(overrides: Partial<RolloutDraft> = {}): RolloutDraft {
  return { ...newRolloutDraft('rel-1'), ...overrides };
}

function problemsOf(sut: ReturnType<typeof validateRolloutDraft>) {
  return sut.ok
    ? { paths: [], kinds: [], order: [] }
    : {
        paths: sut.issues.map((i) => i.path),
        kinds: sut.issues.map((i) => `${i.path}:${i.kind}`),
        order: sut.orderProblems,
      };
}

describe('validateRolloutDraft', () => {
  it('turns a valid draft into the request body, the standard phases included', () => {
    const sut = validateRolloutDraft(draft({ windowOn: true, force: true }));

    expect(sut).toEqual({
      ok: true,
      body: {
        releaseId: 'rel-1',
        targets: { all: true },
        phases: [
          { name: 'canary', count: 1 },
          { name: '10%', percent: 10 },
          { name: '50%', percent: 50 },
          { name: '100%', percent: 100 },
        ],
        successThresholdPct: 100,
        autoAdvance: true,
        abort: { failurePct: 50, minFinished: 1 },
        perBoxTimeoutSec: 3600,
        maintenanceWindow: { start: '02:00', end: '05:00' },
        force: true,
        maxWaitSec: 600,
        healthDeadlineSec: 120,
      },
    });
  });

  it('needs a release and at least one tag or box when targeting those', () => {
    expect(problemsOf(validateRolloutDraft(draft({ releaseId: null }))).kinds).toEqual([
      'releaseId:required',
    ]);
    expect(problemsOf(validateRolloutDraft(draft({ targetKind: 'tags', tags: [] }))).kinds).toEqual([
      'targets.tags:minItems',
    ]);
    expect(problemsOf(validateRolloutDraft(draft({ targetKind: 'boxes', deviceIds: [] }))).kinds).toEqual([
      'targets.deviceIds:minItems',
    ]);
    expect(validateRolloutDraft(draft({ targetKind: 'tags', tags: ['lab'] })).ok).toBe(true);
  });

  it('names a phase without a name, no phases at all and phases out of order', () => {
    const unnamed = validateRolloutDraft(
      draft({
        phaseMode: 'custom',
        customPhases: [
          { name: 'half', kind: 'percent', value: 50 },
          { name: '', kind: 'percent', value: 20 },
        ],
      }),
    );
    expect(problemsOf(unnamed)).toEqual({
      paths: ['phases.1.name'],
      kinds: ['phases.1.name:required'],
      order: ['rolloutWizard.problems.notCumulative', 'rolloutWizard.problems.lastNotAll'],
    });

    const none = validateRolloutDraft(draft({ phaseMode: 'custom', customPhases: [] }));
    expect(problemsOf(none).kinds).toEqual(['phases:minItems']);
  });

  it('reports a share over 100 %, a cleared number and a window that is not HH:MM', () => {
    const sut = validateRolloutDraft(
      draft({
        phaseMode: 'custom',
        customPhases: [{ name: 'all', kind: 'percent', value: 120 }],
        successThresholdPct: null,
        windowOn: true,
        windowStart: '2am',
      }),
    );

    expect(problemsOf(sut).kinds).toEqual([
      'phases.0.percent:max',
      'successThresholdPct:required',
      'maintenanceWindow.start:invalid',
    ]);
  });
});

describe('boxesThatCannotUpdate', () => {
  const boxes = [
    { id: 'a', tags: ['lab'], capabilities: ['telemetry', 'ota'] },
    { id: 'b', tags: ['lab'], capabilities: ['telemetry'] },
    { id: 'c', tags: ['shop'], capabilities: [] },
  ];
  const ids = (draft: Partial<RolloutDraft>) =>
    boxesThatCannotUpdate({ ...newRolloutDraft('r'), ...draft }, boxes).map((box) => box.id);

  it('names the targeted boxes without the ota capability, for each kind of target', () => {
    expect(ids({ targetKind: 'all' })).toEqual(['b', 'c']);
    expect(ids({ targetKind: 'tags', tags: ['lab'] })).toEqual(['b']);
    expect(ids({ targetKind: 'boxes', deviceIds: ['a', 'c'] })).toEqual(['c']);
    expect(ids({ targetKind: 'boxes', deviceIds: ['a'] })).toEqual([]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UPDATE_STATUSES, type UpdateStatus } from '@agentbox/schemas';
import { EngineError, step, type EngineAction, type EngineEvent } from './rollout-engine.js';
import { initialState } from './rollout-phases.js';
import { isFinal, isInFlight, type EngineConfig, type RolloutState } from './rollout-state.js';

const boxes = (n: number) => Array.from({ length: n }, (_, i) => `box-${String(i).padStart(3, '0')}`);

const base: EngineConfig = {
  phases: [
    { name: 'canary', count: 1 },
    { name: 'ten', percent: 10 },
    { name: 'half', percent: 50 },
    { name: 'all', percent: 100 },
  ],
  successThresholdPct: 100,
  autoAdvance: true,
  abort: { failurePct: 50, minFinished: 2 },
  perBoxTimeoutSec: 60,
};

function report(deviceId: string, status: UpdateStatus, attempt = 1, extra: Partial<EngineEvent> = {}) {
  return { type: 'report', deviceId, attempt, status, ...extra } as EngineEvent;
}
const offered = (actions: EngineAction[]) =>
  actions.flatMap((action) => (action.type === 'offer' ? [action.deviceId] : []));
const withdrawn = (actions: EngineAction[]) =>
  actions.flatMap((action) => (action.type === 'withdraw' ? [action.deviceId] : []));

function started(config: EngineConfig, n: number, now = 0) {
  return step(config, initialState(config, boxes(n), now), [{ type: 'start' }], now);
}

describe('rollout engine', () => {
  it('offers the first phase on start and advances phase by phase as boxes end healthy', () => {
    let { state: sut, actions } = started(base, 20);
    expect(offered(actions)).toEqual(['box-000']);
    ({ state: sut, actions } = step(base, sut, [report('box-000', 'downloading')], 1));
    expect(offered(actions)).toEqual([]);
    ({ state: sut, actions } = step(base, sut, [report('box-000', 'healthy')], 2));
    expect(withdrawn(actions)).toEqual(['box-000']);
    expect(sut.phase).toBe(1);
    expect(offered(actions)).toEqual(['box-001']);
    ({ state: sut, actions } = step(base, sut, [report('box-001', 'healthy')], 3));
    expect(sut.phase).toBe(2);
    expect(offered(actions)).toEqual(boxes(10).slice(2));
    ({ state: sut, actions } = step(
      base,
      sut,
      boxes(10)
        .slice(2)
        .map((id) => report(id, 'healthy')),
      4,
    ));
    expect(sut.phase).toBe(3);
    expect(offered(actions)).toEqual(boxes(20).slice(10));
    ({ state: sut } = step(
      base,
      sut,
      boxes(20)
        .slice(10)
        .map((id) => report(id, 'healthy')),
      5,
    ));
    expect(sut.status).toBe('completed');
    expect(sut.endedAt).toBe(5);
  });

  it('pauses for a person after each phase without autoAdvance; resume moves on', () => {
    const config = { ...base, autoAdvance: false };
    let { state: sut } = started(config, 4);
    ({ state: sut } = step(config, sut, [report('box-000', 'healthy')], 1));
    expect([sut.status, sut.pauseReason, sut.phase]).toEqual(['paused', 'awaiting-approval', 0]);
    const { state: next, actions } = step(config, sut, [{ type: 'resume' }], 2);
    // Phase 'ten' of 4 boxes ends where the canary did, so it passes at once.
    expect([next.status, next.phase]).toEqual(['running', 2]);
    expect(offered(actions)).toEqual(['box-001']);
  });

  it('pauses below the success threshold even with autoAdvance', () => {
    const config = { ...base, successThresholdPct: 100, abort: { failurePct: 100, minFinished: 10 } };
    let { state: sut } = started(config, 20);
    ({ state: sut } = step(config, sut, [report('box-000', 'rejected', 1, { reason: 'downgrade' })], 1));
    expect([sut.status, sut.pauseReason]).toEqual(['paused', 'below-threshold']);
    expect(sut.boxes[0]).toMatchObject({ status: 'rejected', reason: 'downgrade' });
  });

  it('aborts once failures reach the threshold among enough finished boxes, leaving the rest untouched', () => {
    const config: EngineConfig = {
      ...base,
      phases: [{ name: 'all', percent: 100 }],
      abort: { failurePct: 50, minFinished: 3 },
    };
    let { state: sut } = started(config, 6);
    ({ state: sut } = step(config, sut, [report('box-000', 'rolled-back'), report('box-001', 'failed')], 1));
    // Two finished, both failed: below minFinished, so the rollout goes on.
    expect(sut.status).toBe('running');
    ({ state: sut } = step(
      config,
      sut,
      [report('box-002', 'installing'), report('box-003', 'downloading')],
      2,
    ));
    const { state: aborted, actions } = step(config, sut, [report('box-004', 'healthy')], 3);
    expect(aborted.status).toBe('aborted');
    // Boxes that could still stop are withdrawn; the one switching slots finishes its attempt.
    expect(withdrawn(actions).sort()).toEqual(['box-003', 'box-004', 'box-005']);
    expect(aborted.boxes.map((box) => box.status)).toEqual([
      'rolled-back',
      'failed',
      'installing',
      'canceled',
      'healthy',
      'canceled',
    ]);
    const { state: later, actions: after } = step(config, aborted, [report('box-002', 'healthy')], 4);
    expect(later.boxes[2]?.status).toBe('healthy');
    expect(offered(after)).toEqual([]);
    expect(later.status).toBe('aborted');
  });

  it('ignores a late report of an earlier step, and of another attempt', () => {
    let { state: sut } = started(base, 1);
    ({ state: sut } = step(base, sut, [report('box-000', 'rebooting')], 1));
    ({ state: sut } = step(
      base,
      sut,
      [report('box-000', 'downloading', 1, { progress: { bytes: 5, total: 9 } })],
      2,
    ));
    expect(sut.boxes[0]?.status).toBe('rebooting');
    ({ state: sut } = step(base, sut, [report('box-000', 'healthy', 2)], 3));
    expect(sut.boxes[0]?.status).toBe('rebooting');
    ({ state: sut } = step(base, sut, [report('box-000', 'healthy', 1)], 4));
    expect(sut.status).toBe('completed');
    ({ state: sut } = step(base, sut, [report('box-000', 'failed', 1)], 5));
    expect(sut.boxes[0]?.status).toBe('healthy');
  });

  it('keeps download progress moving forward', () => {
    let { state: sut } = started(base, 1);
    ({ state: sut } = step(
      base,
      sut,
      [report('box-000', 'downloading', 1, { progress: { bytes: 50, total: 100 } })],
      1,
    ));
    ({ state: sut } = step(
      base,
      sut,
      [report('box-000', 'downloading', 1, { progress: { bytes: 20, total: 100 } })],
      2,
    ));
    expect(sut.boxes[0]?.progress).toEqual({ bytes: 50, total: 100 });
    ({ state: sut } = step(
      base,
      sut,
      [report('box-000', 'downloading', 1, { progress: { bytes: 80, total: 100 } })],
      3,
    ));
    expect(sut.boxes[0]?.progress).toEqual({ bytes: 80, total: 100 });
  });

  it('fails a box that does not finish within the per-box timeout and withdraws its offer', () => {
    const config = { ...base, perBoxTimeoutSec: 10, abort: { failurePct: 100, minFinished: 5 } };
    let { state: sut } = started(config, 3, 1_000);
    ({ state: sut } = step(config, sut, [report('box-000', 'downloading')], 5_000));
    expect(sut.boxes[0]?.status).toBe('downloading');
    const { state: timed, actions } = step(config, sut, [], 11_000);
    expect(timed.boxes[0]).toMatchObject({ status: 'failed', reason: 'timeout' });
    expect(withdrawn(actions)).toEqual(['box-000']);
    expect([timed.status, timed.pauseReason]).toEqual(['paused', 'below-threshold']);
  });

  it('with a maintenance window, a downloaded box waits for it untimed; then each step has the timeout', () => {
    const config: EngineConfig = {
      ...base,
      phases: [{ name: 'all', percent: 100 }],
      perBoxTimeoutSec: 10,
      abort: { failurePct: 100, minFinished: 5 },
      waitsForWindow: true,
    };
    let { state: sut } = started(config, 2, 0);
    ({ state: sut } = step(
      config,
      sut,
      [report('box-000', 'downloaded'), report('box-001', 'downloading')],
      5_000,
    ));
    // Hours later: the box still downloading has timed out as usual, the one waiting for its window has not.
    ({ state: sut } = step(config, sut, [], 6 * 3_600_000));
    expect(sut.boxes.map((box) => [box.status, box.reason])).toEqual([
      ['downloaded', null],
      ['failed', 'timeout'],
    ]);
    // The window opens: installing, then stuck rebooting past the timeout.
    const opened = 6 * 3_600_000 + 1_000;
    ({ state: sut } = step(config, sut, [report('box-000', 'installing')], opened));
    ({ state: sut } = step(config, sut, [report('box-000', 'rebooting')], opened + 8_000));
    ({ state: sut } = step(config, sut, [], opened + 17_000));
    expect(sut.boxes[0]?.status).toBe('rebooting');
    ({ state: sut } = step(config, sut, [], opened + 18_000));
    expect(sut.boxes[0]).toMatchObject({
      status: 'failed',
      reason: 'timeout',
      detail: 'no progress past rebooting within 10 s',
    });

    // Without a window the same wait at downloaded is a timeout.
    const plain = { ...config, waitsForWindow: false };
    let { state: other } = started(plain, 1, 0);
    ({ state: other } = step(plain, other, [report('box-000', 'downloaded')], 5_000));
    ({ state: other } = step(plain, other, [], 10_000));
    expect(other.boxes[0]).toMatchObject({ status: 'failed', reason: 'timeout' });
  });

  it('pause stops new offers; resume after an operator pause stays in the phase', () => {
    const config: EngineConfig = {
      ...base,
      phases: [
        { name: 'a', count: 1 },
        { name: 'b', count: 3 },
      ],
    };
    let { state: sut } = started(config, 3);
    ({ state: sut } = step(config, sut, [{ type: 'pause' }], 1));
    const { state: paused, actions } = step(config, sut, [report('box-000', 'healthy')], 2);
    expect(offered(actions)).toEqual([]);
    expect([paused.status, paused.pauseReason, paused.phase]).toEqual(['paused', 'operator', 0]);
    const resumed = step(config, paused, [{ type: 'resume' }], 3);
    expect(resumed.state.phase).toBe(1);
    expect(offered(resumed.actions)).toEqual(['box-001', 'box-002']);
  });

  it('cancel withdraws pending offers, keeps updated boxes, and refuses to restart', () => {
    const config: EngineConfig = { ...base, phases: [{ name: 'all', percent: 100 }] };
    let { state: sut } = started(config, 3);
    ({ state: sut } = step(config, sut, [report('box-000', 'healthy'), report('box-001', 'downloaded')], 1));
    const { state: canceled, actions } = step(config, sut, [{ type: 'cancel' }], 2);
    expect(canceled.status).toBe('canceled');
    expect(canceled.boxes.map((box) => box.status)).toEqual(['healthy', 'canceled', 'canceled']);
    expect(withdrawn(actions).sort()).toEqual(['box-001', 'box-002']);
    expect(() => step(config, canceled, [{ type: 'resume' }], 3)).toThrow(EngineError);
    expect(() => step(config, canceled, [{ type: 'retry-failed' }], 3)).toThrow(EngineError);
  });

  it('retry-failed offers failed boxes again as a new attempt', () => {
    const config: EngineConfig = {
      ...base,
      phases: [{ name: 'all', percent: 100 }],
      abort: { failurePct: 100, minFinished: 10 },
    };
    let { state: sut } = started(config, 2);
    ({ state: sut } = step(config, sut, [report('box-000', 'healthy'), report('box-001', 'rejected')], 1));
    expect(sut.status).toBe('completed');
    const { state: retried, actions } = step(config, sut, [{ type: 'retry-failed' }], 2);
    expect(retried.status).toBe('running');
    expect(actions).toContainEqual({ type: 'offer', deviceId: 'box-001', attempt: 2 });
    expect(offered(actions)).toEqual(['box-001']);
    const done = step(config, retried, [report('box-001', 'healthy', 2)], 3).state;
    expect(done.status).toBe('completed');
  });

  it('refuses operator actions that do not fit the status', () => {
    const { state: sut } = started(base, 2);
    expect(() => step(base, sut, [{ type: 'start' }], 1)).toThrow(EngineError);
    expect(() => step(base, sut, [{ type: 'resume' }], 1)).toThrow(EngineError);
    const draft = initialState(base, boxes(2), 0);
    expect(() => step(base, draft, [{ type: 'pause' }], 1)).toThrow(EngineError);
  });
});

// ---------------------------------------------------------------- properties

const configArb: fc.Arbitrary<EngineConfig> = fc.record({
  phases: fc.oneof(
    fc.array(
      fc.oneof(
        fc.record({ name: fc.constant('p'), count: fc.integer({ min: 0, max: 30 }) }),
        fc.record({ name: fc.constant('p'), percent: fc.integer({ min: 1, max: 100 }) }),
      ),
      { minLength: 1, maxLength: 5 },
    ),
    fc.record({
      exponential: fc.record({
        start: fc.integer({ min: 1, max: 5 }),
        factor: fc.integer({ min: 1, max: 4 }),
      }),
    }),
  ),
  successThresholdPct: fc.integer({ min: 0, max: 100 }),
  autoAdvance: fc.boolean(),
  abort: fc.record({
    failurePct: fc.integer({ min: 1, max: 100 }),
    minFinished: fc.integer({ min: 0, max: 10 }),
  }),
  perBoxTimeoutSec: fc.integer({ min: 1, max: 100 }),
  waitsForWindow: fc.boolean(),
});

type Op =
  | { kind: 'event'; pick: number; status: UpdateStatus; stale: boolean }
  | { kind: EngineEvent['type'] }
  | { kind: 'wait'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      pick: fc.nat(),
      status: fc.constantFrom(...UPDATE_STATUSES),
      stale: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Op>(
      { kind: 'pause' },
      { kind: 'resume' },
      { kind: 'cancel' },
      { kind: 'retry-failed' },
      { kind: 'start' },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 60_000 }) }),
  },
);

describe('rollout engine invariants', () => {
  it('hold for any sequence of reports, operator actions and time', () => {
    fc.assert(
      fc.property(
        configArb,
        fc.integer({ min: 0, max: 25 }),
        fc.array(opArb, { maxLength: 80 }),
        (config, n, ops) => {
          let now = 0;
          let state: RolloutState = initialState(config, boxes(n), now);
          ({ state } = step(config, state, [{ type: 'start' }], now));
          for (const op of ops) {
            let events: EngineEvent[] = [];
            if (op.kind === 'wait') now += op.ms;
            else if (op.kind === 'event') {
              const box = state.boxes[n === 0 ? 0 : op.pick % n];
              if (!box) continue;
              events = [report(box.deviceId, op.status, op.stale ? box.attempt - 1 : box.attempt)];
            } else events = [{ type: op.kind } as EngineEvent];
            now += 1;
            const before = state;
            let result;
            try {
              result = step(config, before, events, now);
            } catch (error) {
              expect(error).toBeInstanceOf(EngineError);
              continue;
            }
            state = result.state;
            const { actions } = result;
            // Never more boxes in flight than the current phase reaches, and only boxes it reaches.
            const end = state.phases[state.phase]?.end ?? 0;
            expect(state.boxes.filter((box) => isInFlight(box.status)).length).toBeLessThanOrEqual(end);
            state.boxes.forEach((box, index) => {
              if (index >= end) expect(box.status).toBe('pending');
            });
            expect(state.phase).toBeLessThan(Math.max(1, state.phases.length));
            // Nothing is offered and no phase advances once a rollout is aborted or canceled.
            if (before.status === 'aborted' || before.status === 'canceled') {
              expect(actions.filter((a) => a.type === 'offer' || a.type === 'phase')).toEqual([]);
              expect(state.status).toBe(before.status);
            }
            if (state.status === 'aborted' || state.status === 'canceled')
              expect(actions.filter((a) => a.type === 'offer' || a.type === 'phase')).toEqual([]);
            // One final state per attempt: a final box only changes by starting a new attempt.
            before.boxes.forEach((prior, index) => {
              const now_ = state.boxes[index];
              if (prior.status !== 'pending' && isFinal(prior.status) && now_?.attempt === prior.attempt)
                expect(now_.status).toBe(prior.status);
            });
            // Completed only when every targeted box is final.
            if (state.status === 'completed')
              expect(state.boxes.every((box) => isFinal(box.status))).toBe(true);
            // Each offer is for a box now scheduled in the attempt offered.
            for (const action of actions) {
              if (action.type !== 'offer') continue;
              const box = state.boxes.find((candidate) => candidate.deviceId === action.deviceId);
              expect(box).toMatchObject({ status: 'scheduled', attempt: action.attempt });
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a rollout whose boxes all answer healthy completes, with autoAdvance', () => {
    fc.assert(
      fc.property(configArb, fc.integer({ min: 1, max: 40 }), (config, n) => {
        const auto = { ...config, autoAdvance: true };
        let { state, actions } = started(auto, n);
        for (let round = 0; round < 100 && state.status === 'running'; round += 1) {
          ({ state, actions } = step(
            auto,
            state,
            offered(actions).map((id) => report(id, 'healthy')),
            round + 1,
          ));
        }
        expect(state.status).toBe('completed');
        expect(state.boxes.every((box) => box.status === 'healthy')).toBe(true);
      }),
    );
  });
});

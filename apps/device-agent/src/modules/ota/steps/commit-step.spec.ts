import { describe, expect, it } from 'vitest';
import { writeBootState } from '@agentbox/launcher/boot-state';
import { useUpdateFlowHarness } from '../../../../test/support/update-flow-harness.js';

describe('UpdateFlow', () => {
  const h = useUpdateFlowHarness();

  it('as the pending version: commits once healthy and reports healthy; after a rollback the old version reports it', async () => {
    const signed = h.release('1.1.0');
    const first = h.flow();
    await first.offer(h.offer(signed));
    await first.idle();

    const probation = h.flow({ currentVersion: '1.1.0', runningSlot: 'b' });
    expect(await probation.recover(true)).toBe('trial');
    let checks = 0;
    const outcome = await probation.trial(
      () => Promise.resolve({ ok: ++checks >= 3, detail: 'warming up' }),
      5_000,
    );
    expect(outcome).toBe('committed');
    const boot = h.bootState();
    expect(boot).toMatchObject({
      active: 'b',
      pending: null,
      last: { result: 'committed', version: '1.1.0' },
    });
    expect(h.reports.at(-1)).toMatchObject({ status: 'healthy', runningVersion: '1.1.0' });

    // A second rollout whose version the launcher rolls back.
    const second = await h.serveRelease('1.2.0');
    const onB = h.flow({ currentVersion: '1.1.0', runningSlot: 'b' });
    await onB.offer(h.offer(second.signed, { rolloutId: 'r2', url: second.url }));
    await onB.idle();
    expect(h.bootState().pending).toMatchObject({ slot: 'a', version: '1.2.0' });
    const state = h.bootState();
    writeBootState(h.bootPath, {
      ...state,
      pending: null,
      last: {
        result: 'rolled-back',
        slot: 'a',
        version: '1.2.0',
        reason: 'timeout',
        detail: 'no commit in 120s',
        at: Date.now() + 1,
      },
    });
    expect(await h.reportsAtRestart('1.1.0', 'b')).toEqual([
      expect.objectContaining({
        rolloutId: 'r2',
        status: 'rolled-back',
        reason: 'timeout',
        runningVersion: '1.1.0',
      }),
    ]);
    // Reported once: another start does not report it again.
    expect(await h.flow({ currentVersion: '1.1.0', runningSlot: 'b' }).recover(false)).toBe('none');
    expect(h.reports).toHaveLength(1);
  });

  describe('a pending version that cannot prove healthy rolls itself back through boot.json', () => {
    const installPending = async () => {
      const first = h.flow();
      await first.offer(h.offer(h.release('1.1.0')));
      await first.idle();
      expect(h.bootState().pending).toMatchObject({ slot: 'b', version: '1.1.0' });
      const probation = h.flow({ currentVersion: '1.1.0', runningSlot: 'b' });
      expect(await probation.recover(true)).toBe('trial');
      return probation;
    };

    const expectRolledBack = async (detail: RegExp) => {
      const boot = h.bootState();
      expect(boot).toMatchObject({
        active: 'a',
        pending: null,
        last: {
          result: 'rolled-back',
          slot: 'b',
          version: '1.1.0',
          rolloutId: 'r1',
          reason: 'health-check-failed',
        },
      });
      expect(boot.last?.detail).toMatch(detail);
      expect(boot.last?.reportedAt).toBeUndefined();
      expect(h.statuses()).not.toContain('healthy');
      // The launcher starts the old slot, which reports the rollback once, with the reason.
      expect(await h.reportsAtRestart('1.0.0', 'a')).toEqual([
        expect.objectContaining({
          rolloutId: 'r1',
          version: '1.1.0',
          status: 'rolled-back',
          reason: 'health-check-failed',
          runningVersion: '1.0.0',
        }),
      ]);
      expect(h.reports[0]!.detail).toMatch(detail);
      expect(h.bootState().last?.reportedAt).toBeGreaterThan(0);
      expect(await h.flow({ currentVersion: '1.0.0', runningSlot: 'a' }).recover(false)).toBe('none');
      expect(h.reports).toHaveLength(1);
    };

    it('deadline passed without a healthy check: pending cleared, last says why', async () => {
      const sut = await installPending();
      let checks = 0;
      const outcome = await sut.trial(() => {
        checks += 1;
        return Promise.resolve({ ok: false, detail: 'not connected to the cloud' });
      }, 300);
      expect(outcome).toBe('rolled-back');
      expect(checks).toBeGreaterThan(1);
      await expectRolledBack(/not healthy within 0s: not connected to the cloud/);
    });

    it('a definitive failure rolls back at once, long before the deadline', async () => {
      const sut = await installPending();
      const started = Date.now();
      const outcome = await sut.trial(
        () => Promise.resolve({ ok: false, detail: 'state dir read-back differs', definitive: true }),
        60_000,
      );
      expect(outcome).toBe('rolled-back');
      expect(Date.now() - started).toBeLessThan(5_000);
      await expectRolledBack(/health check failed: state dir read-back differs/);
    });

    it('a shutdown during the probation decides nothing: the slot stays pending for the launcher', async () => {
      const sut = await installPending();
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 100);
      const outcome = await sut.trial(
        () => Promise.resolve({ ok: false, detail: 'warming up' }),
        60_000,
        abort.signal,
      );
      expect(outcome).toBe('stopped');
      expect(h.bootState()).toMatchObject({
        active: 'a',
        pending: { slot: 'b', version: '1.1.0' },
        last: null,
      });
    });

    it('never rolls back a slot it does not run from', async () => {
      await installPending();
      const other = h.flow({ currentVersion: '1.1.0', runningSlot: 'a' });
      const outcome = await other.trial(() => Promise.resolve({ ok: false, detail: 'no' }), 50);
      expect(outcome).toBe('stopped');
      expect(h.bootState().pending).toMatchObject({ slot: 'b' });
    });
  });
});

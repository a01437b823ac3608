import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inWindow } from '../update-flow.js';
import { useUpdateFlowHarness } from '../../../../test/support/update-flow-harness.js';

describe('UpdateFlow', () => {
  const h = useUpdateFlowHarness();

  describe('maintenance window (box local time)', () => {
    const at = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
    const windowed = (start: string, end: string) =>
      h.offer(h.release('1.1.0'), {
        policy: {
          maintenanceWindow: { start, end },
          force: false,
          maxWaitSec: 600,
          healthDeadlineSec: 120,
        },
      });
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 500 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(check()).toBe(true);
    };

    it('inWindow: start inclusive, end exclusive, wrapping midnight, no window is always open', () => {
      expect(inWindow(undefined, at('12:00'))).toBe(true);
      expect(inWindow({ start: '02:00', end: '04:00' }, at('01:59'))).toBe(false);
      expect(inWindow({ start: '02:00', end: '04:00' }, at('02:00'))).toBe(true);
      expect(inWindow({ start: '02:00', end: '04:00' }, at('03:59'))).toBe(true);
      expect(inWindow({ start: '02:00', end: '04:00' }, at('04:00'))).toBe(false);
      expect(inWindow({ start: '22:00', end: '04:00' }, at('23:30'))).toBe(true);
      expect(inWindow({ start: '22:00', end: '04:00' }, at('00:10'))).toBe(true);
      expect(inWindow({ start: '22:00', end: '04:00' }, at('12:00'))).toBe(false);
    });

    it('closed: downloads at once and stays at downloaded; unpacks and restarts once the window opens', async () => {
      let clock = at('10:00');
      const sut = h.flow({ minuteOfDay: () => clock });
      await sut.offer(windowed('02:00', '04:00'));
      await until(() => h.statuses().includes('downloaded'));
      // Many polls of a closed window: nothing installed, nothing pending, no restart.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(h.statuses().filter((status) => status !== 'downloading')).toEqual(['downloaded']);
      expect(h.reports.find((report) => report.status === 'downloaded')?.detail).toBe(
        'installs in the maintenance window 02:00-04:00 (box local time)',
      );
      expect((await sut.store.load())?.step).toBe('install');
      await expect(stat(join(h.dir, 'slots', 'b'))).rejects.toThrow();
      await expect(stat(join(h.dir, 'slots', '.b.staging'))).rejects.toThrow();
      expect(h.bootState().pending).toBeNull();
      expect(h.restarts).toBe(0);
      expect(h.served.bytesSent).toBe(h.bundle.length);

      clock = at('02:00');
      await sut.idle();
      expect(h.restarts).toBe(1);
      expect(h.statuses().slice(-3)).toEqual(['downloaded', 'installing', 'rebooting']);
      expect(h.bootState().pending).toMatchObject({ slot: 'b', version: '1.1.0' });
      expect(h.served.bytesSent).toBe(h.bundle.length);
    });

    it('a window wrapping midnight that is open: installs at once', async () => {
      const sut = h.flow({ minuteOfDay: () => at('23:30') });
      await sut.offer(windowed('22:00', '04:00'));
      await sut.idle();
      expect(h.restarts).toBe(1);
      expect(h.reports.find((report) => report.status === 'downloaded')?.detail).toBeUndefined();
    });

    it('a restart while waiting for the window: no new download, still waits, installs once open', async () => {
      let clock = at('05:00');
      const first = h.flow({ minuteOfDay: () => clock });
      await first.offer(windowed('02:00', '04:00'));
      await until(() => h.statuses().includes('downloaded'));
      await first.stop();
      h.reports = [];
      const second = h.flow({ minuteOfDay: () => clock });
      expect(await second.recover(false)).toBe('resume');
      await second.offer(windowed('02:00', '04:00'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(h.restarts).toBe(0);
      expect(h.bootState().pending).toBeNull();
      clock = at('03:00');
      await second.idle();
      expect(h.restarts).toBe(1);
      expect(h.served.ranges).toEqual([undefined]);
      expect(h.statuses()).toEqual(['installing', 'rebooting']);
    });

    it('withdrawn while waiting for the window: canceled, the inactive slot never touched', async () => {
      const sut = h.flow({ minuteOfDay: () => at('12:00') });
      await sut.offer(windowed('02:00', '04:00'));
      await until(() => h.statuses().includes('downloaded'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(h.statuses()).not.toContain('installing');
      await sut.offer(undefined);
      await sut.idle();
      expect(h.statuses().at(-1)).toBe('canceled:canceled');
      expect(h.restarts).toBe(0);
      await expect(stat(join(h.dir, 'slots', 'b'))).rejects.toThrow();
      await expect(stat(join(h.dir, 'ota', 'download'))).rejects.toThrow();
    });
  });
});

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { NotifyReceiver } from '../../../test/support/notify-receiver.js';
import { SystemdNotifier } from './systemd-notifier.js';

describe('SystemdNotifier', () => {
  const dir = useTempDir('agentbox-notify-');
  let receiver: NotifyReceiver;

  beforeEach(async () => {
    receiver = new NotifyReceiver(join(dir.path, 'notify.sock'));
    await receiver.start();
  });

  afterEach(() => {
    receiver.stop();
  });

  it('delivers READY, STATUS and WATCHDOG datagrams to the notify socket', async () => {
    const sut = new SystemdNotifier(receiver.socketPath);
    expect(await sut.notify({ READY: '1', STATUS: 'connected\nto the broker' })).toBe(true);
    expect(await sut.notify({ WATCHDOG: '1' })).toBe(true);
    expect(receiver.assignments).toEqual(
      expect.arrayContaining(['READY=1', 'STATUS=connected to the broker', 'WATCHDOG=1']),
    );
    expect(receiver.assignments.indexOf('READY=1')).toBeLessThan(receiver.assignments.indexOf('WATCHDOG=1'));
  });

  it('does nothing without NOTIFY_SOCKET', async () => {
    const sut = new SystemdNotifier(undefined);
    expect(sut.enabled).toBe(false);
    expect(await sut.notify({ READY: '1' })).toBe(false);
  });

  it('reports failure when nobody listens', async () => {
    const sut = new SystemdNotifier(join(dir.path, 'nobody.sock'));
    expect(await sut.notify({ READY: '1' })).toBe(false);
  });
});

// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { DeviceUpdate } from '@/api/ota-types';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { useDeviceUpdatesStore } from './device-updates';

function report(id: string, status: DeviceUpdate['status'], extra: Partial<DeviceUpdate> = {}): DeviceUpdate {
  return {
    id,
    rolloutId: 'r1',
    attempt: 1,
    version: '1.5.0',
    status,
    reason: null,
    detail: null,
    progress: null,
    runningVersion: '1.4.0',
    reportedAt: '2026-11-01T00:00:00.000Z',
    receivedAt: '2026-11-01T00:00:00.000Z',
    ...extra,
  };
}

describe('device updates store', () => {
  let server: FleetServer;
  let history: Record<string, DeviceUpdate[]>;

  useFleetServer((fleet) => {
    history = { b1: [report('u1', 'downloading')], b2: [report('u9', 'healthy')] };
    server = fleet;
    for (const id of ['b1', 'b2'])
      server.route('GET', `/api/v1/devices/${id}/updates`, () => ({ status: 200, body: history[id] }));
  });

  it("loads a box's history and takes it again when that box reports", async () => {
    const sut = useDeviceUpdatesStore();
    await sut.load('b1');
    expect(sut.items.map((u) => u.status)).toEqual(['downloading']);

    history.b1 = [
      report('u2', 'rolled-back', { reason: 'health-check-failed', detail: 'self-test failed' }),
      ...history.b1!,
    ];
    await sut.applyLiveEvent({ type: 'device.update', deviceId: 'b2', rolloutId: 'r1' });
    expect(sut.items).toHaveLength(1);
    await sut.applyLiveEvent({ type: 'device.update', deviceId: 'b1', rolloutId: 'r1' });
    expect(sut.items[0]).toMatchObject({ status: 'rolled-back', reason: 'health-check-failed' });
  });

  it('drops what it had when another box is opened', async () => {
    const sut = useDeviceUpdatesStore();
    await sut.load('b1');
    const loading = sut.load('b2');
    expect(sut.items).toEqual([]);
    await loading;
    expect(sut.items.map((u) => u.id)).toEqual(['u9']);
    sut.clear();
    expect(sut.deviceId).toBeNull();
  });
});

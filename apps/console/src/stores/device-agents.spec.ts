// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { DeviceAgent } from '@/api/types';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { useDeviceAgentsStore } from './device-agents';

describe('device agents store', () => {
  let server: FleetServer;
  let items: DeviceAgent[];
  let calls: number;

  useFleetServer((fleet) => {
    calls = 0;
    items = [
      { agentId: 'watcher', name: 'Watcher', desiredVersion: 2, reported: null },
      {
        agentId: 'daily-report',
        name: 'Daily report',
        desiredVersion: 1,
        reported: { version: 1, status: 'idle', queued: 0, tokensToday: 1200 },
      },
    ];
    server = fleet;
    server.route('GET', '/api/v1/devices/box-1/agents', () => {
      calls += 1;
      return { status: 200, body: items };
    });
  });

  it('lists what the box should run with what it reports, and refetches when the box reports', async () => {
    const sut = useDeviceAgentsStore();
    await sut.load('box-1');
    expect(sut.sorted.map((a) => a.agentId)).toEqual(['daily-report', 'watcher']);
    expect(sut.tokensToday).toBe(1200);
    expect(sut.troubled).toEqual([]);

    items = [
      {
        agentId: 'daily-report',
        name: 'Daily report',
        desiredVersion: 1,
        reported: {
          version: 1,
          status: 'crash-looping',
          detail: 'exit code 1',
          queued: 0,
          tokensToday: 1300,
        },
      },
    ];
    await sut.applyLiveEvent({ type: 'device.agents', deviceId: 'box-2' });
    expect(calls).toBe(1);
    await sut.applyLiveEvent({ type: 'device.agents', deviceId: 'box-1' });
    expect(calls).toBe(2);
    expect(sut.troubled.map((a) => a.agentId)).toEqual(['daily-report']);
    expect(sut.tokensToday).toBe(1300);

    sut.clear();
    await sut.applyLiveEvent({ type: 'device.agents', deviceId: 'box-1' });
    expect(calls).toBe(2);
  });
});

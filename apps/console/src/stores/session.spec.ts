// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { Device, Provider } from '@/api/types';
import { makeDevice, useFleetServer } from '@/testing/fleet-server';
import { useDevicesStore } from './devices';
import { useProvidersStore } from './providers';
import { resetSessionStores, sessionStores } from './session';
import { dispatchLiveEvent, refreshAfterReconnect } from './store-plumbing';

const provider: Provider = {
  id: 'deepseek',
  name: 'DeepSeek',
  kind: 'openai-compatible',
  baseUrl: 'https://api.deepseek.com/v1',
  models: [],
  hasApiKey: true,
  version: 1,
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
};

describe('session stores', () => {
  let devices: Device[];
  let failures: unknown[];
  const failed = (_store: unknown, error: unknown) => failures.push(error);

  const activePinia = useFleetServer(
    (server) => {
      devices = [makeDevice('a')];
      failures = [];
      server.route('GET', '/api/v1/devices', () => ({
        status: 200,
        body: { items: devices, total: devices.length },
      }));
      server.route('GET', '/api/v1/devices/new-box', () => ({ status: 200, body: makeDevice('new-box') }));
      server.route('GET', '/api/v1/providers', () => ({ status: 200, body: [provider] }));
    },
    { plumbing: true },
  );

  it('finds the stores of every store module without a list of them', () => {
    const ids = sessionStores(activePinia()).map((store) => store.$id);
    expect(ids).toEqual(expect.arrayContaining(['devices', 'telemetry', 'runs', 'rollouts', 'audit']));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('resets every store that declared a reset', async () => {
    const sut = { devices: useDevicesStore(), providers: useProvidersStore() };
    await Promise.all([sut.devices.fetchAll(), sut.providers.fetchAll()]);
    expect(sut.devices.all).toHaveLength(1);
    expect(sut.providers.loaded).toBe(true);

    resetSessionStores(activePinia());

    expect(sut.devices.all).toEqual([]);
    expect(sut.devices.loaded).toBe(false);
    expect(sut.providers.all).toEqual([]);
    expect(sut.providers.loaded).toBe(false);
  });

  it('brings a live event to a store no page has used yet', async () => {
    const stores = sessionStores(activePinia());

    dispatchLiveEvent(
      stores,
      { type: 'device.status', deviceId: 'new-box', online: true, lastSeenAt: null },
      failed,
    );

    await expect.poll(() => useDevicesStore().get('new-box')?.name).toBe('box-new-box');
    expect(failures).toEqual([]);
  });

  it('takes the device list again after the live stream reconnects', async () => {
    const sut = useDevicesStore();
    await sut.fetchAll();
    devices = [makeDevice('a'), makeDevice('b')];

    refreshAfterReconnect(sessionStores(activePinia()), failed);

    await expect.poll(() => sut.all.length).toBe(2);
    expect(failures).toEqual([]);
  });
});

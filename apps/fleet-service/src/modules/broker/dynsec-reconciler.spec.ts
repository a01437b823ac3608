import { describe, expect, it, vi } from 'vitest';
import { deviceRoleName } from './dynsec-admin.js';
import {
  DynsecReconciler,
  lostDevices,
  type BrokerPasswordSource,
  type DynsecClients,
  type LostParts,
} from './dynsec-reconciler.js';

const roleOf = deviceRoleName;

describe('lostDevices', () => {
  it('finds boxes whose client or role is missing, and ignores everything that is no box', () => {
    const lost = lostDevices(
      ['box-a', 'box-b', 'box-c', 'box-d'],
      ['fleet-service', 'box-a', 'box-c', 'operator'],
      ['admin', roleOf('box-a'), roleOf('box-b'), roleOf('ghost')],
    );
    expect(lost).toEqual([
      { deviceId: 'box-b', client: true, role: false },
      { deviceId: 'box-c', client: false, role: true },
      { deviceId: 'box-d', client: true, role: true },
    ]);
  });

  it('finds nothing when the broker has every box', () => {
    expect(lostDevices(['box-a'], ['box-a'], [roleOf('box-a')])).toEqual([]);
    expect(lostDevices([], ['box-a'], [])).toEqual([]);
  });
});

function counter() {
  let value = 0;
  return {
    inc: (by = 1) => {
      value += by;
    },
    get value() {
      return value;
    },
  };
}

function setUp(options: {
  devices: Record<string, string | null>;
  clients: string[];
  roles?: string[];
  failUpsert?: string;
}) {
  const upserts: Array<[string, string | undefined, LostParts?]> = [];
  const broker: DynsecClients = {
    listClients: () => Promise.resolve(options.clients),
    listRoles: () => Promise.resolve(options.roles ?? options.clients.map(roleOf)),
    restoreDevice: (deviceId, lost, password) => {
      if (deviceId === options.failUpsert) return Promise.reject(new Error('broker said no'));
      upserts.push([deviceId, password, lost]);
      return Promise.resolve();
    },
  };
  const source: BrokerPasswordSource = {
    deviceIds: () => Promise.resolve(Object.keys(options.devices)),
    sealedBrokerPasswords: (ids) =>
      Promise.resolve(
        new Map(ids.filter((id) => id in options.devices).map((id) => [id, options.devices[id] ?? null])),
      ),
  };
  const recreated = counter();
  const unrecoverable = counter();
  let now = 0;
  const reconciler = new DynsecReconciler(broker, source, {
    open: (sealed, deviceId) => `${sealed}@${deviceId}`,
    recreated,
    unrecoverable,
    warnEveryMs: 1_000,
    now: () => now,
  });
  return {
    reconciler,
    upserts,
    recreated,
    unrecoverable,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('DynsecReconciler', () => {
  it('re-creates each lost box with its unsealed password and counts it', async () => {
    const { reconciler, upserts, recreated, unrecoverable } = setUp({
      devices: { 'box-a': 'sealed-a', 'box-b': 'sealed-b', 'box-c': 'sealed-c' },
      clients: ['box-a', 'box-c'],
      roles: [roleOf('box-a')],
    });
    const result = await reconciler.run();
    expect(upserts).toEqual([
      ['box-b', 'sealed-b@box-b', { client: true, role: true }],
      ['box-c', undefined, { client: false, role: true }],
    ]);
    expect(result).toEqual({ lost: 2, recreated: 2, unrecoverable: [], failed: 0 });
    expect(recreated.value).toBe(2);
    expect(unrecoverable.value).toBe(0);
  });

  it('gives a lost role back without the password, even to a box enrolled before it was kept', async () => {
    const { reconciler, upserts, unrecoverable } = setUp({
      devices: { 'box-old': null },
      clients: ['box-old'],
      roles: [],
    });
    const result = await reconciler.run();
    expect(upserts).toEqual([['box-old', undefined, { client: false, role: true }]]);
    expect(result).toEqual({ lost: 1, recreated: 1, unrecoverable: [], failed: 0 });
    expect(unrecoverable.value).toBe(0);
  });

  it('counts lost boxes without a sealed password and warns about them at most once per period', async () => {
    const { reconciler, upserts, unrecoverable, advance } = setUp({
      devices: { 'box-old': null, 'box-new': 'sealed' },
      clients: [],
    });
    const warn = vi.spyOn(
      (reconciler as unknown as { logger: { warn: (message: string) => void } }).logger,
      'warn',
    );
    warn.mockImplementation(() => undefined);
    const first = await reconciler.run();
    expect(first?.unrecoverable).toEqual(['box-old']);
    expect(upserts.map(([id]) => id)).toEqual(['box-new']);
    await reconciler.run();
    expect(unrecoverable.value).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/re-enrol.*box-old/);
    advance(1_000);
    await reconciler.run();
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('keeps going past a box the broker refuses, and never rejects', async () => {
    const { reconciler, upserts, recreated } = setUp({
      devices: { 'box-a': 'a', 'box-b': 'b' },
      clients: [],
      failUpsert: 'box-a',
    });
    vi.spyOn(
      (reconciler as unknown as { logger: { warn: (message: string) => void } }).logger,
      'warn',
    ).mockImplementation(() => undefined);
    const result = await reconciler.run();
    expect(result).toMatchObject({ lost: 2, recreated: 1, failed: 1 });
    expect(upserts.map(([id, password]) => [id, password])).toEqual([['box-b', 'b@box-b']]);
    expect(recreated.value).toBe(1);
  });

  it('runs once more when asked while a pass is running', async () => {
    let listed = 0;
    const broker: DynsecClients = {
      listClients: () => {
        listed += 1;
        return Promise.resolve([]);
      },
      listRoles: () => Promise.resolve([]),
      restoreDevice: () => Promise.resolve(),
    };
    const source: BrokerPasswordSource = {
      deviceIds: () => Promise.resolve([]),
      sealedBrokerPasswords: () => Promise.resolve(new Map()),
    };
    const reconciler = new DynsecReconciler(broker, source, {
      open: (sealed) => sealed,
      recreated: counter(),
      unrecoverable: counter(),
    });
    const first = reconciler.run();
    const second = reconciler.run();
    await Promise.all([first, second]);
    expect(listed).toBe(2);
  });
});

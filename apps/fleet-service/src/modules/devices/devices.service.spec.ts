import { generateKeyPairSync } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { type BirthMessage, DeviceListQuerySchema, type LiveEvent } from '@agentbox/schemas';
import { useTestDatabase } from '../../../test/support/database.js';
import { RecordingBroker } from '../../../test/support/recording-broker.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { Device } from './device.entity.js';
import { DeviceException } from './devices.exception.js';
import { DevicesService } from './devices.service.js';

const birth: BirthMessage = {
  v: 1,
  seq: 1,
  ts: Date.now(),
  agentVersion: '1.2.3',
  bootId: 'boot-1',
  hardware: { hostname: 'lab-1', platform: 'linux', arch: 'x64', cpuCores: 4, memTotalBytes: 8_000_000_000 },
  capabilities: ['shell'],
  metrics: ['cpu.usage_pct'],
  telemetryIntervalSec: 10,
};

describe('DevicesService', () => {
  const db = useTestDatabase();
  let broker: RecordingBroker;
  let events: LiveEvent[];
  let sut: DevicesService;

  beforeEach(() => {
    broker = new RecordingBroker();
    const live = new LiveEventsService();
    events = [];
    live.stream().subscribe((event) => events.push(event));
    sut = new DevicesService(db.dataSource.getRepository(Device), live);
    sut.removed.add((deviceId) => broker.removeDevice(deviceId));
  });

  const list = (query: Record<string, string>) => sut.list(DeviceListQuerySchema.parse(query));

  async function seed(): Promise<Record<string, string>> {
    const ids: Record<string, string> = {};
    for (const [name, hw] of [
      ['Alpha', 'hw-alpha-0001'],
      ['beta_100%', 'hw-beta-00002'],
      ['Gamma', 'hw-gamma-0003'],
    ] as const) {
      ids[name] = (await sut.enroll(hw, name, `secret-${name}-0123456789`)).deviceId;
    }
    await sut.update(ids.Alpha!, { tags: ['lab', 'gpu', 'lab'] });
    await sut.update(ids.Gamma!, { tags: ['lab'] });
    await sut.markOnline(ids.Gamma!, new Date('2026-01-02T00:00:00Z'));
    await sut.markOnline(ids.Alpha!, new Date('2026-01-01T00:00:00Z'));
    return ids;
  }

  it('filters by text, online state and tag, and sorts', async () => {
    const ids = await seed();
    const names = (r: { items: Array<{ name: string }> }) => r.items.map((d) => d.name);

    expect(names(await list({}))).toEqual(['Alpha', 'Gamma', 'beta_100%'].sort((a, b) => (a < b ? -1 : 1)));
    expect(names(await list({ q: 'GAM' }))).toEqual(['Gamma']);
    expect(names(await list({ q: 'hw-beta' }))).toEqual(['beta_100%']);
    expect(names(await list({ q: ids.Alpha!.slice(4) }))).toEqual(['Alpha']);
    // LIKE wildcards in the query are literal characters.
    expect(names(await list({ q: '100%' }))).toEqual(['beta_100%']);
    expect(names(await list({ q: 'a%1' }))).toEqual([]);
    expect(names(await list({ q: 'p_a' }))).toEqual([]);
    expect(names(await list({ online: 'true' })).sort()).toEqual(['Alpha', 'Gamma']);
    expect(names(await list({ online: 'false' }))).toEqual(['beta_100%']);
    expect(names(await list({ tag: 'lab' }))).toEqual(['Alpha', 'Gamma']);
    expect(names(await list({ tag: 'gpu' }))).toEqual(['Alpha']);
    expect(names(await list({ online: 'true', sort: 'lastSeenAt', order: 'desc' }))).toEqual([
      'Gamma',
      'Alpha',
    ]);
    const page = await list({ sort: 'createdAt', limit: '1', offset: '1' });
    expect(page.total).toBe(3);
    expect(names(page)).toEqual(['beta_100%']);
    expect((await sut.get(ids.Alpha!)).tags).toEqual(['lab', 'gpu']);
  });

  it('tracks presence and birth, ignoring a Last Will older than the current session', async () => {
    const { deviceId } = await sut.enroll('hw-presence-01', undefined, 'secret-presence-0123456789');
    await sut.markOnline(deviceId, new Date('2026-03-01T10:00:00Z'));
    await sut.markOffline(deviceId, new Date('2026-03-01T09:59:00Z'));
    expect((await sut.get(deviceId)).online).toBe(true);

    await sut.applyBirth(deviceId, birth, new Date('2026-03-01T10:00:01Z'));
    const born = await sut.get(deviceId);
    expect(born).toMatchObject({
      agentVersion: '1.2.3',
      capabilities: ['shell'],
      metrics: ['cpu.usage_pct'],
    });
    expect(born.hardware?.hostname).toBe('lab-1');

    await sut.touch([deviceId, deviceId], new Date('2026-03-01T10:05:00Z'));
    expect((await sut.get(deviceId)).lastSeenAt).toBe('2026-03-01T10:05:00.000Z');

    await sut.markOffline(deviceId, new Date('2026-03-01T10:06:00Z'));
    expect((await sut.get(deviceId)).online).toBe(false);
    expect(
      events
        .filter((e) => e.type === 'device.status')
        .map((e) => (e.type === 'device.status' ? e.online : null)),
    ).toEqual([true, false]);
  });

  it('stores the X25519 secrets key of a birth and ignores anything else', async () => {
    const { deviceId } = await sut.enroll('hw-secrets-01', undefined, 'secret-secrets-0123456789');
    const spki = (type: 'x25519' | 'ed25519') =>
      generateKeyPairSync(type as 'x25519')
        .publicKey.export({ format: 'der', type: 'spki' })
        .toString('base64');
    const key = spki('x25519');
    await sut.applyBirth(deviceId, { ...birth, secretsKey: key }, new Date());
    expect(await sut.fleetTargets([deviceId])).toEqual([{ id: deviceId, tags: [], secretsKey: key }]);
    await sut.applyBirth(deviceId, { ...birth, secretsKey: spki('ed25519') }, new Date());
    await sut.applyBirth(deviceId, birth, new Date());
    expect((await sut.fleetTargets())[0]?.secretsKey).toBe(key);
  });

  it('marks every box offline at once for a freshly started embedded broker', async () => {
    await seed();
    expect(await sut.markAllOffline()).toBe(2);
    expect((await list({ online: 'true' })).total).toBe(0);
    expect(await sut.markAllOffline()).toBe(0);
  });

  it('verifies secrets against the stored hash and forgets them on deletion', async () => {
    const { deviceId } = await sut.enroll('hw-creds-0001', undefined, 'right-secret-0123456789');
    expect(await sut.verifyCredentials(deviceId, 'wrong-secret-0123456789')).toBe(false);
    expect(await sut.verifyCredentials(deviceId, 'right-secret-0123456789')).toBe(true);
    expect(await sut.verifyCredentials('box-unknown', 'right-secret-0123456789')).toBe(false);

    await sut.remove(deviceId);
    expect(broker.removed).toEqual([deviceId]);
    expect(await sut.verifyCredentials(deviceId, 'right-secret-0123456789')).toBe(false);
    const error = await sut.get(deviceId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceException);
    expect((error as DeviceException).code).toBe('DEVICE_NOT_FOUND');
    await expect(sut.remove(deviceId)).rejects.toBeInstanceOf(DeviceException);
  });

  it('keeps a sealed broker password apart from every read, and drops it on re-enrolment', async () => {
    const { deviceId } = await sut.enroll('hw-sealed-0001', 'Sealed', 'secret-sealed-0123456789');
    expect((await sut.sealedBrokerPasswords([deviceId, 'box-none'])).get(deviceId)).toBeNull();
    await sut.storeBrokerPassword(deviceId, 'v1:sealed');
    expect(await sut.sealedBrokerPasswords([deviceId, 'box-none'])).toEqual(
      new Map([[deviceId, 'v1:sealed']]),
    );
    expect(await sut.deviceIds()).toEqual([deviceId]);
    const row = await db.dataSource.getRepository(Device).findOneBy({ id: deviceId });
    expect(row?.brokerPasswordSealed).toBeUndefined();

    await sut.enroll('hw-sealed-0001', undefined, 'secret-rotated-0123456789');
    expect((await sut.sealedBrokerPasswords([deviceId])).get(deviceId)).toBeNull();

    await sut.storeBrokerPassword(deviceId, 'v1:again');
    expect(await sut.clearBrokerPasswords()).toBe(1);
    expect(await sut.clearBrokerPasswords()).toBe(0);
    expect((await sut.sealedBrokerPasswords([deviceId])).get(deviceId)).toBeNull();
  });
});

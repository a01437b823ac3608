import { beforeEach, describe, expect, it } from 'vitest';
import type { DesiredStateMessage } from '@agentbox/schemas';
import { useTestDatabase } from '../../../test/support/database.js';
import { RecordingBroker } from '../../../test/support/recording-broker.js';
import { CommonException } from '../../common/errors/domain-exception.js';
import { Device } from '../devices/device.entity.js';
import { DevicesService } from '../devices/devices.service.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { DeviceStateRow } from './device-state.entity.js';
import { DesiredStateException } from './desired-state.exception.js';
import { BULK_CHUNK, type BulkProgress } from './desired-state-bulk.js';
import { DesiredStateService } from './desired-state.service.js';

/** The broker side, keeping every desired document published. */
class PublishingBroker extends RecordingBroker {
  readonly published: DesiredStateMessage[] = [];
  readonly to: string[] = [];
  override publishDesired(...args: unknown[]): Promise<void> {
    const payload = args[1] as Buffer;
    // The sections here are stand-ins, not valid offers or agents: read as JSON, not through the schema.
    this.published.push(JSON.parse(payload.toString()) as DesiredStateMessage);
    this.to.push(args[0] as string);
    return Promise.resolve();
  }

  clear(): void {
    this.published.length = 0;
    this.to.length = 0;
  }

  /** The versions published to one box, in publish order. */
  versionsOf(deviceId: string): number[] {
    return this.published.filter((_, i) => this.to[i] === deviceId).map((document) => document.version);
  }
}

describe('DesiredStateService', () => {
  const db = useTestDatabase({ AGENTBOX_MAX_PAYLOAD_BYTES: '2048' }, [DeviceStateRow]);
  let broker: PublishingBroker;
  let sut: DesiredStateService;
  let deviceId: string;
  let devices: DevicesService;

  beforeEach(async () => {
    broker = new PublishingBroker();
    devices = new DevicesService(db.dataSource.getRepository(Device), new LiveEventsService());
    deviceId = (await devices.enroll('hw-desired', undefined, 'secret-desired-0123456789')).deviceId;
    sut = new DesiredStateService(db.dataSource.getRepository(DeviceStateRow), broker, devices, db.config);
  });

  const stored = () => db.dataSource.getRepository(DeviceStateRow).findOneBy({ deviceId });

  it('writes each owner through one path: version + 1, published, other owners kept', async () => {
    await sut.write(deviceId, 'update', () => ({ sections: { update: { rolloutId: 'r-1' } } }));
    await sut.setDesired(deviceId, { telemetry: { intervalSec: 5 } });
    const row = await sut.write(deviceId, 'agents', () => ({
      sections: { agents: [], providers: [] },
      agentsFingerprint: 'f-1',
    }));
    expect(row?.desiredVersion).toBe(3);
    expect(row?.agentsFingerprint).toBe('f-1');
    expect(broker.published.map((document) => document.version)).toEqual([1, 2, 3]);
    expect(broker.published[2]?.spec).toEqual({
      update: { rolloutId: 'r-1' },
      telemetry: { intervalSec: 5 },
      agents: [],
      providers: [],
    });
  });

  it('writes nothing when the owner has nothing to write', async () => {
    expect(await sut.write(deviceId, 'update', () => null)).toBeNull();
    expect(await stored()).toBeNull();
    expect(broker.published).toEqual([]);
  });

  it('refuses a document over the payload cap with one domain error, storing nothing', async () => {
    const big = { notes: 'x'.repeat(4096) };
    const refused = await sut
      .write(deviceId, 'update', () => ({ sections: { update: big } }))
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DesiredStateException);
    expect(refused).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      httpStatus: 413,
      size: { cap: 2048 },
    });
    expect((refused as DesiredStateException).size.bytes).toBeGreaterThan(4096);
    expect(await stored()).toBeNull();
    expect(broker.published).toEqual([]);
  });

  it('answers the operator with 413 PAYLOAD_TOO_LARGE, worded as before', async () => {
    const refused = await sut
      .setDesired(deviceId, { notes: 'x'.repeat(4096) })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CommonException);
    expect(refused).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 });
    expect((refused as Error).message).toMatch(
      /^The desired state is \d+ bytes once encoded; the MQTT payload cap is 2048$/,
    );
  });
});

describe('DesiredStateService.writeMany', () => {
  const db = useTestDatabase({ AGENTBOX_MAX_PAYLOAD_BYTES: '2048' }, [DeviceStateRow]);
  let broker: PublishingBroker;
  let sut: DesiredStateService;
  let ids: string[];

  beforeEach(async () => {
    broker = new PublishingBroker();
    const devices = new DevicesService(db.dataSource.getRepository(Device), new LiveEventsService());
    ids = [];
    // More boxes than one chunk, so the chunks and their overlap are exercised.
    for (let i = 0; i < BULK_CHUNK + 20; i += 1) {
      ids.push((await devices.enroll(`hw-bulk-${i}`, undefined, `secret-bulk-${i}-0123456789abc`)).deviceId);
    }
    sut = new DesiredStateService(db.dataSource.getRepository(DeviceStateRow), broker, devices, db.config);
  });

  const agentsOwner = (fingerprint: string) => () => ({
    sections: { agents: [{ id: 'a' }], providers: [] },
    agentsFingerprint: fingerprint,
  });

  it('raises each box by one version in bulk, keeps other owners, skips the unchanged, the too large and the failing', async () => {
    const [first, second, third] = ids as [string, string, string];
    await sut.setDesired(first, { telemetry: { intervalSec: 7 } });
    await sut.write(second, 'update', () => ({ sections: { update: { rolloutId: 'r-1' } } }));
    broker.clear();
    const seen: BulkProgress[] = [];
    const outcome = await sut.writeMany(
      'agents',
      ids.map((deviceId) => ({
        deviceId,
        compose:
          deviceId === third
            ? () => ({ sections: { agents: [{ notes: 'x'.repeat(4096) }] }, agentsFingerprint: 'big' })
            : deviceId === ids[3]
              ? () => null
              : deviceId === ids[4]
                ? () => {
                    throw new Error('no key to seal to');
                  }
                : agentsOwner('f-1'),
      })),
      (progress) => seen.push(progress),
    );
    expect(outcome).toEqual({ written: ids.length - 3, unchanged: 1, failed: 2 });
    expect(seen.at(-1)).toEqual(outcome);
    expect(seen.map((p) => p.written)).toEqual([...seen.map((p) => p.written)].sort((a, b) => a - b));

    const rows = new Map(
      (await db.dataSource.getRepository(DeviceStateRow).find()).map((row) => [row.deviceId, row]),
    );
    expect(rows.get(first)).toMatchObject({
      desiredVersion: 2,
      agentsFingerprint: 'f-1',
      desiredSpec: { telemetry: { intervalSec: 7 }, agents: [{ id: 'a' }], providers: [] },
    });
    expect(rows.get(second)?.desiredSpec).toEqual({
      update: { rolloutId: 'r-1' },
      agents: [{ id: 'a' }],
      providers: [],
    });
    expect(rows.get(second)?.desiredVersion).toBe(2);
    expect(rows.get(ids[10]!)?.desiredVersion).toBe(1);
    expect(rows.has(third)).toBe(false);
    expect(rows.has(ids[3]!)).toBe(false);
    expect(rows.has(ids[4]!)).toBe(false);
    expect(broker.published).toHaveLength(ids.length - 3);
    expect(broker.versionsOf(first)).toEqual([2]);
    expect(broker.published.find((_, i) => broker.to[i]?.includes(ids[10]!))?.spec).toEqual({
      agents: [{ id: 'a' }],
      providers: [],
    });
  });

  it('queues with single writes of the same boxes, so no box is ever published a lower version', async () => {
    const box = ids[BULK_CHUNK + 5]!;
    await sut.setDesired(box, { telemetry: { intervalSec: 7 } });
    const bulk = sut.writeMany(
      'agents',
      ids.map((deviceId) => ({ deviceId, compose: agentsOwner('f-1') })),
    );
    const single = sut.setDesired(box, { telemetry: { intervalSec: 9 } });
    const [outcome] = await Promise.all([bulk, single]);
    expect(outcome.written).toBe(ids.length);
    const versions = broker.versionsOf(box);
    expect(versions).toEqual([1, 2, 3]);
    const latest = broker.published.filter((_, i) => broker.to[i]?.includes(box)).at(-1);
    expect(latest?.spec).toMatchObject({ agents: [{ id: 'a' }] });

    // A second bulk write with the same inputs publishes nothing when the owner says so.
    broker.clear();
    const again = await sut.writeMany(
      'agents',
      ids.map((deviceId) => ({
        deviceId,
        compose: (current) => (current?.agentsFingerprint === 'f-1' ? null : agentsOwner('f-1')()),
      })),
    );
    expect(again).toEqual({ written: 0, unchanged: ids.length, failed: 0 });
    expect(broker.published).toEqual([]);
  });
});

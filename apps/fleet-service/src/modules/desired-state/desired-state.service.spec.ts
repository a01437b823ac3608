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
import { DesiredStateService } from './desired-state.service.js';

/** The broker side, keeping every desired document published. */
class PublishingBroker extends RecordingBroker {
  readonly published: DesiredStateMessage[] = [];
  override publishDesired(...args: unknown[]): Promise<void> {
    const payload = args[1] as Buffer;
    // The sections here are stand-ins, not valid offers or agents: read as JSON, not through the schema.
    this.published.push(JSON.parse(payload.toString()) as DesiredStateMessage);
    return Promise.resolve();
  }
}

describe('DesiredStateService', () => {
  const db = useTestDatabase({ AGENTBOX_MAX_PAYLOAD_BYTES: '2048' }, [DeviceStateRow]);
  let broker: PublishingBroker;
  let sut: DesiredStateService;
  let deviceId: string;

  beforeEach(async () => {
    broker = new PublishingBroker();
    const devices = new DevicesService(db.dataSource.getRepository(Device), new LiveEventsService());
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

import { beforeEach, describe, expect, it } from 'vitest';
import { ClaimTokenCreateRequestSchema, ProvisionResponseSchema } from '@agentbox/schemas';
import { useTestDatabase } from '../../../test/support/database.js';
import { RecordingBroker } from '../../../test/support/recording-broker.js';
import { hashSecret, sha256Hex } from '../../common/secrets.js';
import { AuditEntryRow } from '../audit/audit-entry.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { Device } from '../devices/device.entity.js';
import { DevicesService } from '../devices/devices.service.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { ClaimToken } from './claim-token.entity.js';
import { ProvisioningException, type ProvisioningExceptionCode } from './provisioning.exception.js';
import { ProvisioningService } from './provisioning.service.js';

describe('ProvisioningService', () => {
  const db = useTestDatabase({}, [AuditEntryRow]);
  let broker: RecordingBroker;
  let devices: DevicesService;
  let sut: ProvisioningService;

  beforeEach(() => {
    broker = new RecordingBroker();
    devices = new DevicesService(db.dataSource.getRepository(Device), new LiveEventsService());
    devices.removed.add((deviceId) => broker.removeDevice(deviceId));
    sut = new ProvisioningService(
      db.dataSource.getRepository(ClaimToken),
      devices,
      broker,
      db.config,
      new AuditService(db.dataSource.getRepository(AuditEntryRow)),
    );
  });

  const newToken = (input: Record<string, unknown> = {}) =>
    sut.createToken(ClaimTokenCreateRequestSchema.parse(input), 'admin');

  async function expectCode(promise: Promise<unknown>, code: ProvisioningExceptionCode): Promise<void> {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProvisioningException);
    expect((error as ProvisioningException).code).toBe(code);
  }

  it('creates a device, stores only hashes and hands the secret to the broker', async () => {
    const token = await newToken();
    const response = await sut.provision({
      claimToken: token.token,
      hardwareId: 'hw-aaaaaaaa',
      name: 'lab box',
    });

    expect(ProvisionResponseSchema.parse(response)).toEqual(response);
    expect(response.deviceId).toMatch(/^box-[a-z2-7]{12}$/);
    expect(response.mqtt).toEqual({
      url: broker.publicUrl(),
      username: response.deviceId,
      password: response.mqtt.password,
    });
    expect(broker.credentials.get(response.deviceId)).toBe(response.mqtt.password);

    const row = await db.dataSource.getRepository(Device).findOneByOrFail({ id: response.deviceId });
    expect(row.name).toBe('lab box');
    expect(row.secretHash.startsWith('hmac-sha256$')).toBe(true);
    expect(row.secretHash).not.toContain(response.mqtt.password);
    const stored = await db.dataSource.getRepository(ClaimToken).findOneByOrFail({ id: token.id });
    expect(stored.tokenHash).toBe(sha256Hex(token.token));
    expect(stored.uses).toBe(1);
    expect(await devices.verifyCredentials(response.deviceId, response.mqtt.password)).toBe(true);

    // Audited under the claim token, never with the token or the box's password.
    const audit = await db.dataSource.getRepository(AuditEntryRow).find();
    expect(audit).toEqual([
      expect.objectContaining({
        actor: token.id,
        actorType: 'claim-token',
        actorId: token.id,
        action: 'device.enrolled',
        targetType: 'device',
        targetId: response.deviceId,
      }),
    ]);
    const written = JSON.stringify(audit);
    expect(written).not.toContain(token.token);
    expect(written).not.toContain(response.mqtt.password);
  });

  it('takes a box enrolled with an argon2id hash and moves it to the fast hash at its next connect', async () => {
    const enrolled = await sut.provision({
      claimToken: (await newToken()).token,
      hardwareId: 'hw-legacy-01',
    });
    const repository = db.dataSource.getRepository(Device);
    await repository.update(
      { id: enrolled.deviceId },
      { secretHash: await hashSecret(enrolled.mqtt.password) },
    );

    expect(await devices.verifyCredentials(enrolled.deviceId, 'not-the-secret')).toBe(false);
    expect((await repository.findOneByOrFail({ id: enrolled.deviceId })).secretHash).toMatch(/^\$argon2id\$/);
    expect(await devices.verifyCredentials(enrolled.deviceId, enrolled.mqtt.password)).toBe(true);
    const moved = (await repository.findOneByOrFail({ id: enrolled.deviceId })).secretHash;
    expect(moved.startsWith('hmac-sha256$')).toBe(true);
    // A fresh service (no cached outcome) checks the moved hash.
    const restarted = new DevicesService(repository, new LiveEventsService());
    expect(await restarted.verifyCredentials(enrolled.deviceId, enrolled.mqtt.password)).toBe(true);
    expect(await restarted.verifyCredentials(enrolled.deviceId, 'not-the-secret')).toBe(false);
  });

  it('re-enrolling a known hardware id keeps the device id and rotates the secret', async () => {
    const token = await newToken({ maxUses: 2 });
    const first = await sut.provision({ claimToken: token.token, hardwareId: 'hw-bbbbbbbb' });
    // Warm the credential cache with the old secret: rotation must invalidate it.
    expect(await devices.verifyCredentials(first.deviceId, first.mqtt.password)).toBe(true);

    const second = await sut.provision({ claimToken: token.token, hardwareId: 'hw-bbbbbbbb' });

    expect(second.deviceId).toBe(first.deviceId);
    expect(second.mqtt.password).not.toBe(first.mqtt.password);
    expect(await devices.verifyCredentials(first.deviceId, first.mqtt.password)).toBe(false);
    expect(await devices.verifyCredentials(first.deviceId, second.mqtt.password)).toBe(true);
    expect(await db.dataSource.getRepository(Device).count()).toBe(1);
  });

  it('refuses unknown, expired, revoked and used-up tokens with distinct codes', async () => {
    await expectCode(
      sut.provision({ claimToken: 'abct_not-a-real-token-at-all', hardwareId: 'hw-cccccccc' }),
      'CLAIM_TOKEN_INVALID',
    );

    const expired = await newToken();
    await db.dataSource
      .getRepository(ClaimToken)
      .update({ id: expired.id }, { expiresAt: new Date(Date.now() - 1_000) });
    await expectCode(
      sut.provision({ claimToken: expired.token, hardwareId: 'hw-cccccccc' }),
      'CLAIM_TOKEN_EXPIRED',
    );

    const revoked = await newToken();
    await sut.revokeToken(revoked.id);
    await expectCode(
      sut.provision({ claimToken: revoked.token, hardwareId: 'hw-cccccccc' }),
      'CLAIM_TOKEN_REVOKED',
    );

    const single = await newToken({ maxUses: 1 });
    await sut.provision({ claimToken: single.token, hardwareId: 'hw-cccccccc' });
    await expectCode(
      sut.provision({ claimToken: single.token, hardwareId: 'hw-dddddddd' }),
      'CLAIM_TOKEN_EXHAUSTED',
    );
    expect(await db.dataSource.getRepository(Device).count()).toBe(1);

    const states = Object.fromEntries((await sut.listTokens()).items.map((item) => [item.id, item.state]));
    expect(states).toEqual({ [expired.id]: 'expired', [revoked.id]: 'revoked', [single.id]: 'exhausted' });
  });

  it('gives the claim back when the broker cannot take the credentials, so the box can retry', async () => {
    const token = await newToken({ maxUses: 1 });
    broker.failNextUpsert = new Error('broker down');
    await expect(sut.provision({ claimToken: token.token, hardwareId: 'hw-retry-0001' })).rejects.toThrow(
      'broker down',
    );
    expect((await db.dataSource.getRepository(ClaimToken).findOneByOrFail({ id: token.id })).uses).toBe(0);

    const retried = await sut.provision({ claimToken: token.token, hardwareId: 'hw-retry-0001' });
    expect(broker.credentials.get(retried.deviceId)).toBe(retried.mqtt.password);
    expect(await devices.verifyCredentials(retried.deviceId, retried.mqtt.password)).toBe(true);
  });

  it('never lets concurrent claims exceed maxUses', async () => {
    const token = await newToken({ maxUses: 3 });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        sut.provision({ claimToken: token.token, hardwareId: `hw-concurrent-${i}` }),
      ),
    );

    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(3);
    expect(refused).toHaveLength(9);
    for (const r of refused) {
      expect((r.reason as ProvisioningException).code).toBe('CLAIM_TOKEN_EXHAUSTED');
    }
    expect((await db.dataSource.getRepository(ClaimToken).findOneByOrFail({ id: token.id })).uses).toBe(3);
    expect(await db.dataSource.getRepository(Device).count()).toBe(3);
  });

  it('never returns the plaintext token after creation and 404s unknown ids on revoke', async () => {
    const token = await newToken({ note: 'rack 4' });
    const listed = await sut.listTokens();
    expect(JSON.stringify(listed)).not.toContain(token.token);
    expect(listed.items[0]).toMatchObject({
      id: token.id,
      note: 'rack 4',
      state: 'active',
      uses: 0,
      maxUses: 1,
    });
    await expectCode(sut.revokeToken('00000000-0000-4000-8000-000000000000'), 'CLAIM_TOKEN_NOT_FOUND');
  });
});

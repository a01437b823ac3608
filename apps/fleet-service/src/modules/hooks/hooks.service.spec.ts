import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import type { AppConfig } from '../../config/app-config.js';
import { SecretCipher } from '../secrets/secret-cipher.js';
import { HookRow } from './hook.entity.js';
import { HooksService } from './hooks.service.js';

describe('HooksService secrets at rest', () => {
  const db = useTestDatabase({}, [HookRow]);
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const aad = (id: string) => `hook:${id}:secret`;
  // Re-encryption reads and writes hook rows only; the other collaborators are never reached.
  const service = (cipher: SecretCipher) =>
    new HooksService(
      db.dataSource.getRepository(HookRow),
      undefined as never,
      cipher,
      undefined as never,
      undefined as never,
      undefined as never,
      undefined as never,
      undefined as never,
      { hooks: { ratePerMinute: 60 } } as AppConfig,
    );
  const stored = (id: string) => db.dataSource.getRepository(HookRow).findOneByOrFail({ id });

  it('re-encrypts a secret sealed under the previous key, and only with that key at hand', async () => {
    const id = 'abcdefghijklmnop';
    const now = new Date();
    await db.dataSource.getRepository(HookRow).insert({
      id,
      name: 'Tickets',
      agentId: 'echo',
      deviceId: 'dev-1',
      secretSealed: new SecretCipher(oldKey).encrypt('abh_the-secret', aad(id)),
      deliveryTtlSec: 3600,
      createdBy: 'operator1',
      createdAt: now,
      secretRotatedAt: now,
      lastInvokedAt: null,
    });
    const sealed = (await stored(id)).secretSealed;

    // Without the previous key nothing opens, and nothing is overwritten.
    expect(await service(new SecretCipher(newKey)).reencryptStale()).toBe(0);
    expect((await stored(id)).secretSealed).toBe(sealed);

    expect(await service(new SecretCipher(newKey, [oldKey])).reencryptStale()).toBe(1);
    const resealed = (await stored(id)).secretSealed;
    expect(resealed).not.toBe(sealed);
    expect(new SecretCipher(newKey).decrypt(resealed, aad(id))).toBe('abh_the-secret');
    expect(await service(new SecretCipher(newKey, [oldKey])).reencryptStale()).toBe(0);
  });
});

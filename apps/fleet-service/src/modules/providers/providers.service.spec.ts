import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import { SecretCipher } from '../secrets/secret-cipher.js';
import { ProviderRow } from './provider.entity.js';
import { ProviderException } from './providers.exception.js';
import { ProvidersService } from './providers.service.js';

/** The agents module's side, as far as providers need it: who uses what, and who was told of a change. */
class RecordingFleet {
  readonly changed: string[] = [];
  users = new Map<string, string[]>();
  providerChanged(providerId: string): Promise<void> {
    this.changed.push(providerId);
    return Promise.resolve();
  }
  agentsUsingProvider(providerId: string): Promise<string[]> {
    return Promise.resolve(this.users.get(providerId) ?? []);
  }
}

describe('ProvidersService', () => {
  const db = useTestDatabase({}, [ProviderRow]);
  let fleet: RecordingFleet;
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  const service = (cipher: SecretCipher) => {
    const providers = new ProvidersService(db.dataSource.getRepository(ProviderRow), cipher);
    providers.changed.add((providerId) => fleet.providerChanged(providerId));
    providers.addUsageCheck((providerId) => fleet.agentsUsingProvider(providerId));
    return providers;
  };
  const storedKey = async (id: string) =>
    (await db.dataSource.getRepository(ProviderRow).findOneByOrFail({ id })).apiKey;

  beforeEach(() => {
    fleet = new RecordingFleet();
  });

  it('stores keys encrypted, versions every change and tells the fleet', async () => {
    const sut = service(new SecretCipher(newKey));
    const created = await sut.create({
      id: 'qwen',
      name: 'Qwen',
      kind: 'openai-compatible',
      baseUrl: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
      models: ['qwen-plus', 'qwen-plus'],
      apiKey: 'sk-qwen-secret',
    });
    expect(created).toMatchObject({ version: 1, hasApiKey: true, models: ['qwen-plus'] });
    expect(JSON.stringify(created)).not.toContain('sk-qwen');
    expect(await storedKey('qwen')).not.toContain('sk-qwen');
    const row = (await sut.all())[0]!;
    expect(sut.apiKeyOf(row)).toBe('sk-qwen-secret');

    expect(await sut.update('qwen', { name: 'Qwen Plus' })).toMatchObject({ version: 2, hasApiKey: true });
    expect(await sut.update('qwen', { apiKey: null })).toMatchObject({ version: 3, hasApiKey: false });
    expect(fleet.changed).toEqual(['qwen', 'qwen']);
    await expect(sut.update('nope', { name: 'x' })).rejects.toMatchObject({
      code: 'PROVIDER_NOT_FOUND',
    });
  });

  it('refuses to delete a provider an agent uses', async () => {
    const sut = service(new SecretCipher(newKey));
    await sut.create({
      id: 'kimi',
      name: 'Moonshot',
      kind: 'openai-compatible',
      baseUrl: 'https://api.moonshot.cn/v1',
      models: [],
    });
    fleet.users.set('kimi', ['helper', 'writer']);
    const error = await sut.remove('kimi').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderException);
    expect((error as ProviderException).code).toBe('PROVIDER_IN_USE');
    expect((error as ProviderException).message).toContain('helper, writer');
    fleet.users.clear();
    await sut.remove('kimi');
    expect(await sut.list()).toEqual([]);
  });

  it('re-encrypts keys of a previous secrets key with the current one at start', async () => {
    const before = service(new SecretCipher(oldKey));
    for (const id of ['a-provider', 'b-provider']) {
      await before.create({
        id,
        name: id,
        kind: 'openai-compatible',
        baseUrl: 'http://127.0.0.1:1/v1',
        models: [],
        apiKey: `sk-${id}`,
      });
    }
    const oldCiphertext = await storedKey('a-provider');

    // Without the previous key nothing can be read, and nothing is overwritten.
    const lost = service(new SecretCipher(newKey));
    expect(await lost.reencryptStale()).toBe(0);
    expect(await storedKey('a-provider')).toBe(oldCiphertext);

    const sut = service(new SecretCipher(newKey, [oldKey]));
    await sut.onApplicationBootstrap();
    expect(await storedKey('a-provider')).not.toBe(oldCiphertext);
    expect(await sut.reencryptStale()).toBe(0);
    const after = service(new SecretCipher(newKey));
    expect((await after.all()).map((row) => after.apiKeyOf(row)).sort()).toEqual([
      'sk-a-provider',
      'sk-b-provider',
    ]);
  });
});

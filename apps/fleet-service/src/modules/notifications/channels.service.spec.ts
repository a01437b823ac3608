import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import { SecretCipher } from '../secrets/secret-cipher.js';
import { ChannelRow } from './channel.entity.js';
import { ChannelsService } from './channels.service.js';

describe('ChannelsService', () => {
  const db = useTestDatabase({}, [ChannelRow]);
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const service = (cipher: SecretCipher) =>
    new ChannelsService(db.dataSource.getRepository(ChannelRow), cipher);
  const stored = async (id: string) => db.dataSource.getRepository(ChannelRow).findOneByOrFail({ id });

  it('keeps URL and secret encrypted, and re-encrypts them under a new secrets key', async () => {
    const before = service(new SecretCipher(oldKey));
    const { id } = await before.create({
      name: 'WeCom ops',
      type: 'wecom',
      config: { url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key', secret: 'shh-secret' },
    });
    const row = await stored(id);
    expect(JSON.stringify(row)).not.toContain('wecom-key');
    expect(JSON.stringify(row)).not.toContain('shh-secret');
    expect(await before.get(id)).toMatchObject({ url: 'https://qyapi.weixin.qq.com/…', hasSecret: true });

    // Without the previous key nothing opens, and nothing is overwritten.
    expect(await service(new SecretCipher(newKey)).reencryptStale()).toBe(0);
    expect((await stored(id)).urlSealed).toBe(row.urlSealed);

    const rotated = service(new SecretCipher(newKey, [oldKey]));
    await rotated.onApplicationBootstrap();
    expect(await rotated.reencryptStale()).toBe(0);
    expect(await service(new SecretCipher(newKey)).target(id)).toEqual({
      type: 'wecom',
      url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key',
      secret: 'shh-secret',
    });
  });
});

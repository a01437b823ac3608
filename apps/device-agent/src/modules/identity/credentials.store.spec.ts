import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { CREDENTIALS_FILE, CredentialsStore, type StoredCredentials } from './credentials.store.js';

const credentials = (password: string): StoredCredentials => ({
  deviceId: 'box-1',
  hardwareId: 'hw-0123456789',
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'box-1', password },
  enrolledAt: new Date(0).toISOString(),
});

describe('CredentialsStore', () => {
  const dir = useTempDir('agentbox-cred-');
  let sut: CredentialsStore;

  beforeEach(() => {
    sut = new CredentialsStore(dir.path);
  });

  it('returns undefined before enrolment', async () => {
    expect(await sut.load()).toBeUndefined();
  });

  it('stores credentials with mode 0600 and reads them back', async () => {
    await sut.save(credentials('secret-secret-secret-1'));
    expect((await stat(join(dir.path, CREDENTIALS_FILE))).mode & 0o777).toBe(0o600);
    expect(await sut.mode()).toBe(0o600);
    expect(await sut.load()).toEqual(credentials('secret-secret-secret-1'));
  });

  it('replaces a rotated secret atomically (no temp file, never a mix)', async () => {
    await sut.save(credentials('secret-secret-secret-1'));
    await sut.save(credentials('secret-secret-secret-2'));
    expect((await sut.load())?.mqtt.password).toBe('secret-secret-secret-2');
    expect(await readdir(dir.path)).toEqual([CREDENTIALS_FILE]);
    expect(await sut.mode()).toBe(0o600);
  });

  it('refuses a damaged file with a message naming it', async () => {
    await writeFile(join(dir.path, CREDENTIALS_FILE), JSON.stringify({ deviceId: 'x/y' }));
    await expect(sut.load()).rejects.toThrow(CREDENTIALS_FILE);
  });
});

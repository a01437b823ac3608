import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CREDENTIALS_FILE, CredentialsStore, type StoredCredentials } from './credentials.store.js';

const credentials = (password: string): StoredCredentials => ({
  deviceId: 'box-1',
  hardwareId: 'hw-0123456789',
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'box-1', password },
  enrolledAt: new Date(0).toISOString(),
});

describe('CredentialsStore', () => {
  let dir: string;
  let sut: CredentialsStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentbox-cred-'));
    sut = new CredentialsStore(dir);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns undefined before enrolment', async () => {
    expect(await sut.load()).toBeUndefined();
  });

  it('stores credentials with mode 0600 and reads them back', async () => {
    await sut.save(credentials('secret-secret-secret-1'));
    expect((await stat(join(dir, CREDENTIALS_FILE))).mode & 0o777).toBe(0o600);
    expect(await sut.mode()).toBe(0o600);
    expect(await sut.load()).toEqual(credentials('secret-secret-secret-1'));
  });

  it('replaces a rotated secret atomically (no temp file, never a mix)', async () => {
    await sut.save(credentials('secret-secret-secret-1'));
    await sut.save(credentials('secret-secret-secret-2'));
    expect((await sut.load())?.mqtt.password).toBe('secret-secret-secret-2');
    expect(await readdir(dir)).toEqual([CREDENTIALS_FILE]);
    expect(await sut.mode()).toBe(0o600);
  });

  it('refuses a damaged file with a message naming it', async () => {
    await writeFile(join(dir, CREDENTIALS_FILE), JSON.stringify({ deviceId: 'x/y' }));
    await expect(sut.load()).rejects.toThrow(CREDENTIALS_FILE);
  });
});

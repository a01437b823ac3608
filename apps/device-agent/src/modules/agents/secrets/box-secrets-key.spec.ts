import { createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, createCipheriv } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { BirthMessageSchema, SealedSecretSchema } from '@agentbox/schemas';
import { SealedSecretError, sealSecret } from '@agentbox/sealed-secret';
import { BoxSecretsKey, SECRETS_KEY_FILE } from './box-secrets-key.js';

describe('BoxSecretsKey', () => {
  const dir = useTempDir('agentbox-secrets-');

  it('creates the key pair once, private key 0600, and loads the same one after a restart', async () => {
    const sut = await BoxSecretsKey.loadOrCreate(dir.path);
    expect((await stat(join(dir.path, SECRETS_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir.path)).toEqual([SECRETS_KEY_FILE]); // no temp file left behind
    const again = await BoxSecretsKey.loadOrCreate(dir.path);
    expect(again.publicKey).toBe(sut.publicKey);
    // base64 DER SPKI of an X25519 key, and short enough for the birth message.
    const key = createPublicKey({ key: Buffer.from(sut.publicKey, 'base64'), format: 'der', type: 'spki' });
    expect(key.asymmetricKeyType).toBe('x25519');
    expect(BirthMessageSchema.shape.secretsKey.safeParse(sut.publicKey).success).toBe(true);
    expect(await readFile(join(dir.path, SECRETS_KEY_FILE), 'utf8')).toContain('BEGIN PRIVATE KEY');
  });

  it('opens a secret sealed to it', async () => {
    const sut = await BoxSecretsKey.loadOrCreate(dir.path);
    const sealed = sealSecret('sk-live-0123456789', sut.publicKey);
    expect(SealedSecretSchema.parse(sealed)).toEqual(sealed);
    expect(sut.open(sealed)).toBe('sk-live-0123456789');
  });

  it('opens a secret sealed independently, step by step as docs/protocol.md section 11 describes', async () => {
    const sut = await BoxSecretsKey.loadOrCreate(dir.path);
    const ephemeral = generateKeyPairSync('x25519');
    const box = createPublicKey({ key: Buffer.from(sut.publicKey, 'base64'), format: 'der', type: 'spki' });
    const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: box });
    const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), 'agentbox-secret-v1', 32));
    const iv = Buffer.alloc(12, 7);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([cipher.update('ключ-密钥', 'utf8'), cipher.final()]);
    const opened = sut.open({
      alg: 'x25519-hkdf-sha256-aes256gcm',
      epk: ephemeral.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    });
    expect(opened).toBe('ключ-密钥');
  });

  it('refuses a secret sealed to another box', async () => {
    const sut = await BoxSecretsKey.loadOrCreate(dir.path);
    const otherDir = await mkdtemp(join(tmpdir(), 'agentbox-secrets-other-'));
    try {
      const other = await BoxSecretsKey.loadOrCreate(otherDir);
      expect(other.publicKey).not.toBe(sut.publicKey);
      const sealed = sealSecret('sk-for-the-other-box', other.publicKey);
      expect(() => sut.open(sealed)).toThrow(SealedSecretError);
      expect(other.open(sealed)).toBe('sk-for-the-other-box');
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('refuses tampered ciphertext, tag, IV or ephemeral key', async () => {
    const sut = await BoxSecretsKey.loadOrCreate(dir.path);
    const sealed = sealSecret('sk-live-0123456789', sut.publicKey);
    const flip = (base64: string) => {
      const bytes = Buffer.from(base64, 'base64');
      bytes[0] = bytes[0]! ^ 0x01;
      return bytes.toString('base64');
    };
    expect(() => sut.open({ ...sealed, ct: flip(sealed.ct) })).toThrow(
      /not sealed to this box, or it was altered/,
    );
    expect(() => sut.open({ ...sealed, tag: flip(sealed.tag) })).toThrow(SealedSecretError);
    expect(() => sut.open({ ...sealed, iv: flip(sealed.iv) })).toThrow(SealedSecretError);
    const otherEpk = sealSecret('x', sut.publicKey).epk;
    expect(() => sut.open({ ...sealed, epk: otherEpk })).toThrow(SealedSecretError);
    expect(() => sut.open({ ...sealed, epk: 'bm90IGEga2V5' })).toThrow(SealedSecretError);
    expect(() => sut.open({ ...sealed, iv: Buffer.alloc(8).toString('base64') })).toThrow(/12 bytes/);
  });
});

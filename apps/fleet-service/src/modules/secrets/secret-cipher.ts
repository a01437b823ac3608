import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretCipherError extends Error {
  override readonly name = 'SecretCipherError';
}

/** Short public fingerprint of a key, stored beside each ciphertext so rotation knows which key sealed it. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/**
 * AES-256-GCM for secrets at rest. A stored value reads `v1:{keyId}:{iv}:{ciphertext}:{tag}` (base64
 * parts); the additional data binds it to its row, so a ciphertext copied onto another row fails to open.
 */
export class SecretCipher {
  private readonly current: { id: string; key: Buffer };
  private readonly keys = new Map<string, Buffer>();

  constructor(currentKey: Buffer, previousKeys: readonly Buffer[] = []) {
    this.current = { id: keyId(currentKey), key: currentKey };
    for (const key of [currentKey, ...previousKeys]) {
      if (key.length !== 32) throw new SecretCipherError('secrets keys must be 32 bytes');
      if (!this.keys.has(keyId(key))) this.keys.set(keyId(key), key);
    }
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  encrypt(plain: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [
      FORMAT,
      this.current.id,
      iv.toString('base64'),
      ct.toString('base64'),
      cipher.getAuthTag().toString('base64'),
    ].join(':');
  }

  decrypt(stored: string, aad: string): string {
    const [format, id, iv, ct, tag] = stored.split(':');
    if (format !== FORMAT || !id || iv === undefined || ct === undefined || tag === undefined) {
      throw new SecretCipherError('not a stored secret');
    }
    const key = this.keys.get(id);
    if (!key) {
      throw new SecretCipherError(
        `the secret was encrypted with key ${id}, which is neither AGENTBOX_SECRETS_KEY nor in AGENTBOX_SECRETS_KEY_PREVIOUS`,
      );
    }
    const ivBytes = Buffer.from(iv, 'base64');
    const tagBytes = Buffer.from(tag, 'base64');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES)
      throw new SecretCipherError('corrupt secret');
    const decipher = createDecipheriv('aes-256-gcm', key, ivBytes);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tagBytes);
    try {
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretCipherError('the secret does not open with its key (altered, or moved to another row)');
    }
  }

  /** True when the value was sealed with an older key and should be re-encrypted. */
  isStale(stored: string): boolean {
    return stored.split(':')[1] !== this.current.id;
  }
}

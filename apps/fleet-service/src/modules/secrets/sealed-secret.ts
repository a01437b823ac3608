import {
  createCipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import type { SealedSecret } from '@agentbox/schemas';

/** docs/protocol.md section 11: how provider API keys are sealed for one box. */
export const SEALED_SECRET_ALG = 'x25519-hkdf-sha256-aes256gcm';
const HKDF_INFO = 'agentbox-secret-v1';

/** The box's `secretsKey` (base64 DER SPKI); throws when it is not an X25519 public key. */
export function importBoxPublicKey(base64: string): KeyObject {
  const key = createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'x25519') throw new Error('not an X25519 public key');
  return key;
}

export function isValidBoxPublicKey(base64: string): boolean {
  try {
    importBoxPublicKey(base64);
    return true;
  } catch {
    return false;
  }
}

/** Seals `plain` so only the holder of the private half of `boxPublicKey` can open it. */
export function sealForBox(plain: string, boxPublicKey: string): SealedSecret {
  const ephemeral = generateKeyPairSync('x25519');
  const shared = diffieHellman({
    privateKey: ephemeral.privateKey,
    publicKey: importBoxPublicKey(boxPublicKey),
  });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), HKDF_INFO, 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return {
    alg: SEALED_SECRET_ALG,
    epk: ephemeral.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

import {
  createCipheriv,
  createDecipheriv,
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
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealedSecretError extends Error {
  override readonly name = 'SealedSecretError';
}

function deriveKey(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  const shared = diffieHellman({ privateKey, publicKey });
  return Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), HKDF_INFO, 32));
}

/** Public key as it travels: base64 of the DER SPKI. */
export function exportPublicKey(publicKey: KeyObject): string {
  return publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
}

export function importPublicKey(base64: string): KeyObject {
  const key = createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'x25519') throw new SealedSecretError('not an X25519 public key');
  return key;
}

/** Whether a box's `secretsKey` (base64 DER SPKI) is an X25519 public key, as sealing needs. */
export function isValidBoxPublicKey(base64: string): boolean {
  try {
    importPublicKey(base64);
    return true;
  } catch {
    return false;
  }
}

/** Seals `plain` (the cloud does this) so only the holder of the private half of `boxPublicKey` can open it. */
export function sealSecret(plain: string, boxPublicKey: string): SealedSecret {
  const ephemeral = generateKeyPairSync('x25519');
  const key = deriveKey(ephemeral.privateKey, importPublicKey(boxPublicKey));
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return {
    alg: SEALED_SECRET_ALG,
    epk: exportPublicKey(ephemeral.publicKey),
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/** Opens a secret sealed to `privateKey`; throws SealedSecretError for a wrong key or altered bytes. */
export function openSealedSecret(sealed: SealedSecret, privateKey: KeyObject): string {
  if (sealed.alg !== SEALED_SECRET_ALG)
    throw new SealedSecretError(`unknown algorithm ${String(sealed.alg)}`);
  let ephemeral: KeyObject;
  try {
    ephemeral = importPublicKey(sealed.epk);
  } catch (error) {
    if (error instanceof SealedSecretError) throw error;
    throw new SealedSecretError('the ephemeral public key is not a DER SPKI key');
  }
  const iv = Buffer.from(sealed.iv, 'base64');
  const tag = Buffer.from(sealed.tag, 'base64');
  if (iv.length !== IV_BYTES) throw new SealedSecretError(`the IV must be ${IV_BYTES} bytes`);
  if (tag.length !== TAG_BYTES) throw new SealedSecretError(`the tag must be ${TAG_BYTES} bytes`);
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(privateKey, ephemeral), iv);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    // GCM says only "unable to authenticate": sealed to another box, or altered on the way.
    throw new SealedSecretError('the secret was not sealed to this box, or it was altered');
  }
}

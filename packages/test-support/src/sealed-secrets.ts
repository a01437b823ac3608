import { createDecipheriv, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto';
import type { SealedSecret } from '@agentbox/schemas';

/**
 * The box's side of docs/protocol.md section 11, written out step by step and apart from
 * @agentbox/sealed-secret, so that tests check sealed secrets against the protocol rather than against the code
 * that sealed them. Throws when the secret was not sealed to `privateKey` or was changed.
 */
export function openSealedSecret(sealed: SealedSecret, privateKey: KeyObject): string {
  const epk = createPublicKey({ key: Buffer.from(sealed.epk, 'base64'), format: 'der', type: 'spki' });
  const shared = diffieHellman({ privateKey, publicKey: epk });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), 'agentbox-secret-v1', 32));
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString(
    'utf8',
  );
}

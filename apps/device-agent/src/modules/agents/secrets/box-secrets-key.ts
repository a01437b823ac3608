import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SealedSecret } from '@agentbox/schemas';
import { exportPublicKey, openSealedSecret } from '@agentbox/sealed-secret';
import { writeFileAtomic } from '../../../common/atomic-file.js';

export const SECRETS_KEY_FILE = 'secrets-key.pem';

/**
 * The box's X25519 key pair for provider secrets: created once in the state directory (0600), the
 * public half sent as `secretsKey` in the birth message, the private half never leaving the box.
 */
export class BoxSecretsKey {
  private constructor(
    private readonly privateKey: KeyObject,
    /** base64 DER SPKI, as sent in the birth message. */
    readonly publicKey: string,
  ) {}

  /** Loads `<stateDir>/secrets-key.pem`, or creates it on first start. */
  static async loadOrCreate(stateDir: string): Promise<BoxSecretsKey> {
    const path = join(stateDir, SECRETS_KEY_FILE);
    let pem: string | undefined;
    try {
      pem = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (pem !== undefined) {
      const privateKey = createPrivateKey(pem);
      if (privateKey.asymmetricKeyType !== 'x25519')
        throw new Error(`${path} does not hold an X25519 private key`);
      return new BoxSecretsKey(privateKey, exportPublicKey(createPublicKey(privateKey)));
    }
    const pair = generateKeyPairSync('x25519');
    const written = pair.privateKey.export({ format: 'pem', type: 'pkcs8' });
    // A crash before the rename leaves no key; a new one is then made and sent in the next birth.
    await writeFileAtomic(path, written, 0o600);
    return new BoxSecretsKey(pair.privateKey, exportPublicKey(pair.publicKey));
  }

  open(sealed: SealedSecret): string {
    return openSealedSecret(sealed, this.privateKey);
  }
}

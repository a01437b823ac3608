import { Injectable } from '@nestjs/common';
import type { SealedSecret } from '@agentbox/schemas';
import { BoxConfig } from '../../../config/box-config.js';
import { BoxSecretsKey } from './box-secrets-key.js';

/** The box's secrets key for the rest of the agent; loaded once the state directory exists. */
@Injectable()
export class BoxSecretsKeyService {
  private key: BoxSecretsKey | undefined;

  constructor(private readonly config: BoxConfig) {}

  async load(): Promise<void> {
    this.key ??= await BoxSecretsKey.loadOrCreate(this.config.stateDir);
  }

  /** Undefined until load(); the birth message then goes without `secretsKey`. */
  get publicKey(): string | undefined {
    return this.key?.publicKey;
  }

  openSealedSecret(sealed: SealedSecret): string {
    if (!this.key) throw new Error('the secrets key is not loaded yet');
    return this.key.open(sealed);
  }
}

import { Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { SecretCipher } from './secret-cipher.js';
import { loadSecretsKey } from './secrets-key.js';

/** The at-rest cipher of provider secrets, keyed from AGENTBOX_SECRETS_KEY or <dataDir>/secrets.key. */
@Module({
  providers: [
    {
      provide: SecretCipher,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new SecretCipher(
          loadSecretsKey(config.secrets.key, config.dataDir),
          config.secrets.previousKeys.map((key) => Buffer.from(key, 'base64')),
        ),
    },
  ],
  exports: [SecretCipher],
})
export class SecretsModule {}

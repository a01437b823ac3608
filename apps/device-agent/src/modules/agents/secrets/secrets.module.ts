import { Module } from '@nestjs/common';
import { BoxSecretsKeyService } from './box-secrets-key.service.js';

@Module({ providers: [BoxSecretsKeyService], exports: [BoxSecretsKeyService] })
export class SecretsModule {}

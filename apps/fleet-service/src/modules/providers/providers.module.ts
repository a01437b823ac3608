import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretsModule } from '../secrets/secrets.module.js';
import { ProviderRow } from './provider.entity.js';
import { ProvidersController } from './providers.controller.js';
import { ProvidersService } from './providers.service.js';

/** Model providers (OpenAI-compatible endpoints) with their API keys encrypted at rest. */
@Module({
  imports: [TypeOrmModule.forFeature([ProviderRow]), SecretsModule],
  controllers: [ProvidersController],
  providers: [ProvidersService],
  exports: [ProvidersService],
})
export class ProvidersModule {}

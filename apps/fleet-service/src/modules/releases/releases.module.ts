import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { FastifyInstance } from 'fastify';
import { AppConfig } from '../../config/app-config.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { loadSecretsKey } from '../secrets/secrets-key.js';
import { ArtifactStore } from './artifact-store.js';
import { DownloadTokens } from './download-tokens.js';
import { OtaRootController } from './ota-root.controller.js';
import { OtaTrustService } from './ota-trust.service.js';
import { OtaRootRow, ReleaseRow } from './release.entity.js';
import { ReleasesController } from './releases.controller.js';
import { ReleasesService } from './releases.service.js';

/**
 * Releases of the device agent (signed manifests, bundles on disk, Range downloads with per-box tokens)
 * and the trusted OTA root. Exports ReleasesService and OtaTrustService for rollouts.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ReleaseRow, OtaRootRow]), AuditModule, AuthModule, DevicesModule],
  controllers: [ReleasesController, OtaRootController],
  providers: [
    ReleasesService,
    OtaTrustService,
    {
      provide: ArtifactStore,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new ArtifactStore(config.ota.artifactsDir),
    },
    {
      provide: DownloadTokens,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new DownloadTokens(
          loadSecretsKey(config.secrets.key, config.dataDir),
          config.ota.downloadTokenTtlSec,
        ),
    },
  ],
  exports: [ReleasesService, OtaTrustService, AuditModule],
})
export class ReleasesModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** Bundle uploads arrive as raw bodies that the artifact route streams to disk itself. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    if (!fastify.hasContentTypeParser('application/octet-stream')) {
      fastify.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null));
    }
  }
}

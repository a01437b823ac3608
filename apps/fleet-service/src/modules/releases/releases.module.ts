import { Logger, Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { FastifyInstance } from 'fastify';
import { AppConfig } from '../../config/app-config.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { loadSecretsKey } from '../secrets/secrets-key.js';
import { ArtifactStore } from './artifact-store.js';
import { DiskArtifactStore } from './disk-artifact-store.js';
import { DownloadTokens } from './download-tokens.js';
import { OtaRootController } from './ota-root.controller.js';
import { OtaTrustService } from './ota-trust.service.js';
import { OtaRootRow, ReleaseArchitectureRow, ReleaseRow } from './release.entity.js';
import { ReleasesController } from './releases.controller.js';
import { ReleaseDownloadsService } from './release-downloads.service.js';
import { ReleasesService } from './releases.service.js';
import { S3ArtifactStore } from './s3-artifact-store.js';

function artifactStore(config: AppConfig): ArtifactStore {
  const storage = config.ota.artifacts;
  switch (storage.type) {
    case 'disk':
      return new DiskArtifactStore(storage.dir);
    case 's3':
      return new S3ArtifactStore(storage);
  }
}

/**
 * Releases of the device agent (signed manifests, bundles on disk or in an S3 bucket, Range downloads
 * with per-box tokens)
 * and the trusted OTA root. Exports ReleasesService and OtaTrustService for rollouts.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([ReleaseRow, ReleaseArchitectureRow, OtaRootRow]),
    AuditModule,
    AuthModule,
    DevicesModule,
  ],
  controllers: [ReleasesController, OtaRootController],
  providers: [
    ReleasesService,
    ReleaseDownloadsService,
    OtaTrustService,
    {
      provide: ArtifactStore,
      inject: [AppConfig],
      useFactory: artifactStore,
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
export class ReleasesModule implements OnModuleInit, OnModuleDestroy {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly store: ArtifactStore,
  ) {}

  /** Bundle uploads arrive as raw bodies that the artifact route streams to the store itself. */
  onModuleInit(): void {
    new Logger('ReleasesModule').log(`Release bundles are kept in ${this.store.description}`);
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    if (!fastify.hasContentTypeParser('application/octet-stream')) {
      fastify.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null));
    }
  }

  onModuleDestroy(): void {
    if (this.store instanceof S3ArtifactStore) this.store.destroy();
  }
}

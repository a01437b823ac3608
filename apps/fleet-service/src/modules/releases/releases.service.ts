import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository, type FindOptionsWhere } from 'typeorm';
import { verifyRelease, type UpdateReason } from '@agentbox/ota';
import {
  type ReleaseDetailDto,
  type ReleaseDto,
  type ReleaseListQuery,
  type SignedRelease,
  SignedReleaseSchema,
} from '@agentbox/schemas';
import { validate } from '../../common/validation/zod-validation.pipe.js';
import { AppConfig } from '../../config/app-config.js';
import { AuditService } from '../audit/audit.service.js';
import { ArtifactStore } from './artifact-store.js';
import { DownloadTokens } from './download-tokens.js';
import { OtaTrustService } from './ota-trust.service.js';
import { ReleaseArchitectureRow, ReleaseRow } from './release.entity.js';
import { toReleaseDetailDto, toReleaseDto } from './releases.dto.js';
import { ReleaseException, type ReleaseExceptionCode } from './releases.exception.js';

/** Tells whether something (a rollout) still uses a release: its description, or null when unused. */
export type ReleaseUsageCheck = (release: { id: string; version: string }) => Promise<string | null>;

/** The verification failures possible without a box's version and architecture. */
function failureCode(reason: UpdateReason): ReleaseExceptionCode {
  switch (reason) {
    case 'unknown-key':
      return 'RELEASE_UNKNOWN_KEY';
    case 'key-revoked':
      return 'RELEASE_KEY_REVOKED';
    case 'metadata-expired':
      return 'RELEASE_METADATA_EXPIRED';
    default:
      return 'RELEASE_BAD_SIGNATURE';
  }
}

/**
 * Releases of the device agent: signed manifests verified against the trusted root, bundles in the
 * configured artifact store (disk or S3).
 */
@Injectable()
export class ReleasesService {
  private readonly usageChecks: ReleaseUsageCheck[] = [];

  constructor(
    @InjectRepository(ReleaseRow) private readonly releases: Repository<ReleaseRow>,
    @InjectRepository(ReleaseArchitectureRow)
    private readonly architectures: Repository<ReleaseArchitectureRow>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly trust: OtaTrustService,
    private readonly audit: AuditService,
    private readonly store: ArtifactStore,
    private readonly tokens: DownloadTokens,
    private readonly config: AppConfig,
  ) {}

  /** Rollouts register here so a release they use cannot be deleted (checked in registration order). */
  addUsageCheck(check: ReleaseUsageCheck): void {
    this.usageChecks.push(check);
  }

  async list(query: ReleaseListQuery = {}): Promise<ReleaseDto[]> {
    const where: FindOptionsWhere<ReleaseRow> = {};
    if (query.channel !== undefined) where.channel = query.channel;
    if (query.status !== undefined) where.status = query.status;
    const rows = await this.releases.find({ where, order: { createdAt: 'DESC', id: 'ASC' } });
    return rows.map(toReleaseDto);
  }

  async get(id: string): Promise<ReleaseDetailDto> {
    return toReleaseDetailDto(await this.require(id));
  }

  /**
   * The release a box of `arch` takes when a rollout ships `releaseId`: that release when it is built for
   * the box's architecture (or the box has not said which it is), else the ready release of the same
   * version built for it, else `releaseId` still, which the box refuses itself as `incompatible-arch`.
   */
  async buildFor(releaseId: string, arch: string | undefined): Promise<ReleaseRow> {
    const release = await this.require(releaseId);
    const architectures: readonly string[] = release.manifest.signed.compatibility.arch;
    if (arch === undefined || architectures.includes(arch)) return release;
    const sibling = await this.architectures.findOneBy({ version: release.version, arch });
    if (!sibling) return release;
    const row = await this.releases.findOneBy({ id: sibling.releaseId, status: 'ready' });
    return row ?? release;
  }

  /** The stored row (signed manifest included); throws RELEASE_NOT_FOUND. */
  async require(id: string): Promise<ReleaseRow> {
    const row = await this.releases.findOneBy({ id });
    if (!row) throw new ReleaseException('RELEASE_NOT_FOUND', `Release ${id} not found`);
    return row;
  }

  /**
   * Verifies a signed manifest against the trusted root and stores it exactly as received (signatures
   * cover those bytes, defaults not filled in), awaiting its bundle.
   */
  async create(document: unknown, actor: string): Promise<ReleaseDto> {
    const release = validate(SignedReleaseSchema, document, 'release manifest');
    const manifest = release.signed;
    const refuse = async (code: ReleaseExceptionCode, reason: string, detail: string): Promise<never> => {
      await this.audit.record({
        actor,
        action: 'release.rejected',
        targetType: 'release',
        targetId: manifest.version,
        detail: { reason, detail, version: manifest.version, sha256: manifest.artifact.sha256 },
      });
      throw new ReleaseException(code, `Release ${manifest.version} refused (${reason}): ${detail}`);
    };
    const trusted = await this.trust.current();
    if (!trusted) {
      return refuse(
        'OTA_ROOT_MISSING',
        'no-trusted-root',
        'no trusted root metadata: set AGENTBOX_OTA_ROOT_FILE or upload one with PUT /api/v1/ota/root',
      );
    }
    const verified = verifyRelease(document, trusted, {
      now: Date.now(),
      slackMs: this.config.ota.clockSlackMs,
      previousRoots: (await this.trust.chain()).slice(0, -1),
    });
    if (!verified.ok) return refuse(failureCode(verified.reason), verified.reason, verified.detail);
    if (manifest.artifact.size > this.config.ota.artifactMaxBytes) {
      return refuse(
        'ARTIFACT_TOO_LARGE',
        'artifact-too-large',
        `the bundle has ${manifest.artifact.size} bytes, more than AGENTBOX_ARTIFACT_MAX_BYTES (${this.config.ota.artifactMaxBytes})`,
      );
    }
    const taken = async () => {
      const rows = await this.architectures.findBy({
        version: manifest.version,
        arch: In(manifest.compatibility.arch),
      });
      return rows.map((taken) => taken.arch).sort();
    };
    const refuseTaken = (arch: string[]) =>
      refuse('RELEASE_EXISTS', 'exists', `version ${manifest.version} already exists for ${arch.join(', ')}`);
    const clash = await taken();
    if (clash.length > 0) return refuseTaken(clash);
    const now = new Date();
    const row: ReleaseRow = {
      id: randomUUID(),
      version: manifest.version,
      channel: manifest.channel,
      status: 'awaiting-artifact',
      manifest: document as SignedRelease,
      artifactSha256: manifest.artifact.sha256,
      artifactSize: manifest.artifact.size,
      createdBy: actor,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(ReleaseRow, row);
        await manager.insert(
          ReleaseArchitectureRow,
          [...new Set(manifest.compatibility.arch)].map((arch) => ({
            version: row.version,
            arch,
            releaseId: row.id,
          })),
        );
      });
    } catch (error) {
      // Another upload of this version and architecture won the race (on this replica or another).
      const raced = await taken();
      if (raced.length > 0) return refuseTaken(raced);
      throw error;
    }
    await this.audit.record({
      actor,
      action: 'release.created',
      targetType: 'release',
      targetId: row.id,
      detail: {
        version: row.version,
        channel: row.channel,
        sha256: row.artifactSha256,
        size: row.artifactSize,
        signedBy: release.signatures.map((signature) => signature.keyid),
        rootVersion: trusted.signed.version,
      },
    });
    return toReleaseDto(row);
  }

  /** Streams the bundle to the store; it becomes the release's only when size and sha256 match the manifest. */
  async uploadArtifact(
    id: string,
    body: Readable,
    contentLength: number | undefined,
    actor: string,
  ): Promise<ReleaseDto> {
    const row = await this.require(id);
    const refuse = async (code: ReleaseExceptionCode, reason: string, detail: string): Promise<never> => {
      await this.audit.record({
        actor,
        action: 'release.artifact-rejected',
        targetType: 'release',
        targetId: id,
        detail: { reason, detail, version: row.version },
      });
      throw new ReleaseException(code, `Bundle of release ${row.version} refused (${reason}): ${detail}`);
    };
    if (row.status === 'ready') {
      throw new ReleaseException(
        'ARTIFACT_PRESENT',
        `The bundle of release ${row.version} was uploaded already`,
      );
    }
    if (contentLength !== undefined && contentLength !== row.artifactSize) {
      return refuse(
        'ARTIFACT_SIZE_MISMATCH',
        'size-mismatch',
        `Content-Length ${contentLength}, the manifest says ${row.artifactSize}`,
      );
    }
    const checked = await this.store.put(body, { size: row.artifactSize, sha256: row.artifactSha256 });
    if (!checked.ok) {
      return refuse(
        checked.reason === 'size-mismatch' ? 'ARTIFACT_SIZE_MISMATCH' : 'ARTIFACT_HASH_MISMATCH',
        checked.reason,
        checked.detail,
      );
    }
    row.status = 'ready';
    row.updatedAt = new Date();
    await this.releases.update({ id }, { status: row.status, updatedAt: row.updatedAt });
    await this.audit.record({
      actor,
      action: 'release.artifact-uploaded',
      targetType: 'release',
      targetId: id,
      detail: { version: row.version, sha256: row.artifactSha256, size: row.artifactSize },
    });
    return toReleaseDto(row);
  }

  /** Deletes a release no rollout uses, and its bundle unless another release shares it. */
  async remove(id: string, actor: string): Promise<void> {
    const row = await this.require(id);
    for (const check of this.usageChecks) {
      const usedBy = await check({ id, version: row.version });
      if (usedBy !== null) {
        throw new ReleaseException('RELEASE_IN_USE', `Release ${row.version} is used by ${usedBy}`);
      }
    }
    await this.dataSource.transaction(async (manager) => {
      await manager.delete(ReleaseArchitectureRow, { releaseId: id });
      await manager.delete(ReleaseRow, { id });
    });
    if (!(await this.releases.existsBy({ artifactSha256: row.artifactSha256 }))) {
      await this.store.remove(row.artifactSha256);
    }
    await this.audit.record({
      actor,
      action: 'release.deleted',
      targetType: 'release',
      targetId: id,
      detail: { version: row.version, sha256: row.artifactSha256 },
    });
  }

  /** A bearer token letting one box download one release's bundle (for `spec.update.downloadToken`). */
  issueDownloadToken(deviceId: string, releaseId: string): string {
    return this.tokens.issue(deviceId, releaseId);
  }

  /**
   * Where a box downloads the bundle (`spec.update.url`): AGENTBOX_PUBLIC_URL, else this service's port
   * on the loopback address (single-host setups and tests).
   */
  artifactUrl(releaseId: string, deviceId: string): string {
    const base = (this.config.publicUrl ?? `http://127.0.0.1:${this.config.httpPort}`).replace(/\/+$/, '');
    return `${base}/api/v1/releases/${encodeURIComponent(releaseId)}/artifact?device=${encodeURIComponent(deviceId)}`;
  }
}

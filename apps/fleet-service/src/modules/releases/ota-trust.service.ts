import { readFile } from 'node:fs/promises';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { verifyRoot, verifyRootUpdate } from '@agentbox/ota';
import { SignedRootSchema, type SignedRoot } from '@agentbox/schemas';
import { AppConfig } from '../../config/app-config.js';
import { validate } from '../../common/validation/zod-validation.pipe.js';
import { AuditService, SYSTEM_ACTOR } from '../audit/audit.service.js';
import { OtaRootRow } from './release.entity.js';
import { OtaRootException, type OtaRootExceptionCode } from './releases.exception.js';

export interface OtaRootDto {
  version: number;
  expires: string;
  source: string;
  installedBy: string;
  installedAt: string;
  document: SignedRoot;
}

function toDto(row: OtaRootRow): OtaRootDto {
  return {
    version: row.version,
    expires: row.document.signed.expires,
    source: row.source,
    installedBy: row.installedBy,
    installedAt: row.installedAt.toISOString(),
    document: row.document,
  };
}

/**
 * The fleet's trusted OTA root metadata: every version it has accepted, each chain-verified against its
 * predecessor (the first on an administrator's word: AGENTBOX_OTA_ROOT_FILE or the first upload).
 */
@Injectable()
export class OtaTrustService implements OnApplicationBootstrap {
  private readonly logger = new Logger(OtaTrustService.name);

  constructor(
    @InjectRepository(OtaRootRow) private readonly roots: Repository<OtaRootRow>,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  /** Installs AGENTBOX_OTA_ROOT_FILE when it is the first root or the one after the stored one. */
  async onApplicationBootstrap(): Promise<void> {
    const file = this.config.ota.rootFile;
    if (file === undefined) return;
    const document: unknown = JSON.parse(await readFile(file, 'utf8'));
    const parsed = SignedRootSchema.safeParse(document);
    if (!parsed.success) throw new Error(`AGENTBOX_OTA_ROOT_FILE ${file} is not signed root metadata`);
    const trusted = await this.latestRow();
    const version = parsed.data.signed.version;
    if (trusted && version <= trusted.version) return;
    if (trusted && version > trusted.version + 1) {
      this.logger.warn(
        `AGENTBOX_OTA_ROOT_FILE holds root version ${version}, but the trusted one is ${trusted.version}: upload the versions between them through PUT /api/v1/ota/root`,
      );
      return;
    }
    await this.install(document, SYSTEM_ACTOR, 'file');
    this.logger.log(`trusted OTA root version ${version} from ${file}`);
  }

  /** The latest trusted root, or null before one is installed. */
  async current(): Promise<SignedRoot | null> {
    return (await this.latestRow())?.document ?? null;
  }

  /** Every trusted root, oldest first: what a box pinned at any of them needs to reach the latest. */
  async chain(afterVersion = 0): Promise<SignedRoot[]> {
    const rows = await this.roots.find({ order: { version: 'ASC' } });
    return rows.filter((row) => row.version > afterVersion).map((row) => row.document);
  }

  async describe(): Promise<OtaRootDto | null> {
    const row = await this.latestRow();
    return row ? toDto(row) : null;
  }

  /**
   * Verifies and stores the next root (or the first one) exactly as received, since signatures cover
   * those bytes; refusals are audited too.
   */
  async install(document: unknown, actor: string, source: 'file' | 'upload'): Promise<OtaRootDto> {
    const next = validate(SignedRootSchema, document, 'root metadata');
    const trusted = await this.latestRow();
    const options = { now: Date.now(), slackMs: this.config.ota.clockSlackMs };
    const refuse = async (code: OtaRootExceptionCode, reason: string, detail: string): Promise<never> => {
      await this.audit.record({
        actor,
        action: 'ota-root.rejected',
        targetType: 'ota-root',
        targetId: String(next.signed.version),
        detail: { reason, detail, source },
      });
      throw new OtaRootException(
        code,
        `Root metadata version ${next.signed.version} refused (${reason}): ${detail}`,
      );
    };
    if (trusted && next.signed.version !== trusted.version + 1) {
      await refuse(
        'OTA_ROOT_NOT_NEXT',
        'not-next',
        `the trusted root is version ${trusted.version}; only version ${trusted.version + 1} can follow it`,
      );
    }
    const verified = trusted
      ? verifyRootUpdate(trusted.document, document, options)
      : verifyRoot(document, options);
    if (!verified.ok) return refuse('OTA_ROOT_REJECTED', verified.reason, verified.detail);
    const row: OtaRootRow = {
      version: next.signed.version,
      document: verified.root,
      source,
      installedBy: actor,
      installedAt: new Date(),
    };
    try {
      await this.roots.insert(row);
    } catch (error) {
      // Another replica installed this version meanwhile.
      if (await this.roots.existsBy({ version: row.version })) {
        await refuse('OTA_ROOT_NOT_NEXT', 'not-next', `version ${row.version} is already trusted`);
      }
      throw error;
    }
    await this.audit.record({
      actor,
      action: 'ota-root.installed',
      targetType: 'ota-root',
      targetId: String(row.version),
      detail: {
        source,
        expires: next.signed.expires,
        rootKeyIds: next.signed.roles.root.keyids,
        releaseKeyIds: next.signed.roles.release.keyids,
      },
    });
    return toDto(row);
  }

  private async latestRow(): Promise<OtaRootRow | null> {
    return this.roots.findOne({ where: {}, order: { version: 'DESC' } });
  }
}

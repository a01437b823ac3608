import { Injectable } from '@nestjs/common';
import { roleAtLeast } from '@agentbox/schemas';
import { AuthException } from '../auth/auth.exception.js';
import { AuthService } from '../auth/auth.service.js';
import { DevicesService } from '../devices/devices.service.js';
import { ArtifactStore, type OpenedArtifact } from './artifact-store.js';
import { DownloadTokens, type DownloadGrant } from './download-tokens.js';
import type { ByteRange } from './http-range.js';
import { ReleaseException } from './releases.exception.js';
import { ReleasesService } from './releases.service.js';

/** A ready release's bundle as its download sees it. */
export interface ArtifactInfo {
  version: string;
  size: number;
  sha256: string;
  /** File name from the manifest, for Content-Disposition. */
  name: string;
}

/**
 * Serving release bundles: who may download (the box holding the release's download token, or an
 * admin), and the bundle's bytes from the artifact store.
 */
@Injectable()
export class ReleaseDownloadsService {
  constructor(
    private readonly releases: ReleasesService,
    private readonly store: ArtifactStore,
    private readonly tokens: DownloadTokens,
    private readonly devices: DevicesService,
    private readonly auth: AuthService,
  ) {}

  /** A bundle download is for the box holding this release's download token, or for an admin. */
  async authorizeArtifactRequest(
    authorization: string | undefined,
    releaseId: string,
    device: string | undefined,
  ): Promise<void> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new AuthException('UNAUTHENTICATED', 'Missing bearer token');
    if (DownloadTokens.looksLike(token)) {
      await this.authorizeDownload(token, releaseId, device);
      return;
    }
    const user = await this.auth.authenticate(token);
    if (!roleAtLeast(user.role, 'admin')) {
      throw new AuthException('FORBIDDEN', 'Downloading a bundle needs the admin role');
    }
  }

  /**
   * Checks a download token for this release (and box, when the request names one); the box must still
   * be registered.
   */
  private async authorizeDownload(
    token: string,
    releaseId: string,
    deviceId: string | undefined,
  ): Promise<DownloadGrant> {
    const checked = this.tokens.verify(token);
    if (!checked.ok) {
      throw checked.reason === 'expired'
        ? new ReleaseException('DOWNLOAD_TOKEN_EXPIRED', 'The download token expired')
        : new ReleaseException('DOWNLOAD_TOKEN_INVALID', 'The download token is not valid');
    }
    const { grant } = checked;
    if (grant.releaseId !== releaseId || (deviceId !== undefined && grant.deviceId !== deviceId)) {
      throw new ReleaseException(
        'DOWNLOAD_TOKEN_MISMATCH',
        'The download token is for another box or release',
      );
    }
    if ((await this.devices.fleetTargets([grant.deviceId])).length === 0) {
      throw new ReleaseException('DOWNLOAD_TOKEN_INVALID', 'The box of this token is gone');
    }
    return grant;
  }

  /** What a download of a ready release's bundle needs to know before reading it. */
  async artifactOf(id: string): Promise<ArtifactInfo> {
    const row = await this.releases.require(id);
    if (row.status !== 'ready') {
      throw new ReleaseException(
        'ARTIFACT_MISSING',
        `The bundle of release ${row.version} has not been uploaded`,
      );
    }
    return {
      version: row.version,
      size: row.artifactSize,
      sha256: row.artifactSha256,
      name: row.manifest.signed.artifact.name,
    };
  }

  /** The bundle's bytes (all, or one range) from the store; ARTIFACT_MISSING when the store lacks it. */
  async openArtifact(artifact: ArtifactInfo, range: ByteRange | undefined): Promise<OpenedArtifact> {
    const opened = await this.store.open(artifact.sha256, range);
    if (opened === null) {
      throw new ReleaseException(
        'ARTIFACT_MISSING',
        `The bundle of release ${artifact.version} is missing from the artifact store`,
      );
    }
    if (opened.size !== artifact.size) {
      opened.body.destroy();
      throw new ReleaseException(
        'ARTIFACT_MISSING',
        `The stored bundle of release ${artifact.version} has ${opened.size} bytes, its manifest says ${artifact.size}`,
      );
    }
    return opened;
  }
}

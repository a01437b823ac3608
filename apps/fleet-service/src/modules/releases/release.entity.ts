import { Entity } from 'typeorm';
import type { ReleaseStatus, SignedRelease, SignedRoot } from '@agentbox/schemas';
import { Int64, Json, PrimaryInt, PrimaryVarchar, Timestamp, Varchar } from '../../database/columns.js';

/** A verified release of the device agent: its signed manifest and, once uploaded, its bundle on disk. */
@Entity('releases')
export class ReleaseRow {
  @PrimaryVarchar(36) id!: string;

  /**
   * Several releases may share a version, one per architecture (bundles carry native addons): no two
   * releases of one version list the same architecture (table release_architectures).
   */
  @Varchar(64) version!: string;

  @Varchar(16) channel!: string;
  @Varchar(20) status!: ReleaseStatus;

  /** The signed envelope exactly as uploaded: boxes verify it themselves. */
  @Json() manifest!: SignedRelease;

  @Varchar(64) artifactSha256!: string;
  @Int64() artifactSize!: number;
  @Varchar(100) createdBy!: string;
  @Timestamp() createdAt!: Date;
  @Timestamp() updatedAt!: Date;
}

/**
 * Which release of a version is built for an architecture. The primary key makes a second release of
 * one version for the same architecture fail to insert, whichever replica receives it.
 */
@Entity('release_architectures')
export class ReleaseArchitectureRow {
  @PrimaryVarchar(64) version!: string;
  @PrimaryVarchar(16) arch!: string;
  @Varchar(36) releaseId!: string;
}

/** Every root metadata version the service has trusted, so boxes can be handed the chain they lack. */
@Entity('ota_roots')
export class OtaRootRow {
  @PrimaryInt() version!: number;
  @Json() document!: SignedRoot;

  /** `file` (AGENTBOX_OTA_ROOT_FILE) or `upload`. */
  @Varchar(16) source!: string;

  @Varchar(100) installedBy!: string;
  @Timestamp() installedAt!: Date;
}

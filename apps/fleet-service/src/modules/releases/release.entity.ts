import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ReleaseStatus, SignedRelease, SignedRoot } from '@agentbox/schemas';
import { jsonTransformer } from '../../database/json-column.js';
import { bigintNumber } from '../telemetry/telemetry-sample.entity.js';

/** A verified release of the device agent: its signed manifest and, once uploaded, its bundle on disk. */
@Entity('releases')
export class ReleaseRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /**
   * Several releases may share a version, one per architecture (bundles carry native addons): no two
   * releases of one version list the same architecture (table release_architectures).
   */
  @Column({ type: 'varchar', length: 64 })
  version!: string;

  @Column({ type: 'varchar', length: 16 })
  channel!: string;

  @Column({ type: 'varchar', length: 20 })
  status!: ReleaseStatus;

  /** The signed envelope exactly as uploaded: boxes verify it themselves. */
  @Column({ type: 'text', transformer: jsonTransformer })
  manifest!: SignedRelease;

  @Column({ name: 'artifact_sha256', type: 'varchar', length: 64 })
  artifactSha256!: string;

  @Column({ name: 'artifact_size', type: 'bigint', transformer: bigintNumber })
  artifactSize!: number;

  @Column({ name: 'created_by', type: 'varchar', length: 100 })
  createdBy!: string;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}

/**
 * Which release of a version is built for an architecture. The primary key makes a second release of
 * one version for the same architecture fail to insert, whichever replica receives it.
 */
@Entity('release_architectures')
export class ReleaseArchitectureRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  version!: string;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  arch!: string;

  @Column({ name: 'release_id', type: 'varchar', length: 36 })
  releaseId!: string;
}

/** Every root metadata version the service has trusted, so boxes can be handed the chain they lack. */
@Entity('ota_roots')
export class OtaRootRow {
  @PrimaryColumn({ type: 'integer' })
  version!: number;

  @Column({ type: 'text', transformer: jsonTransformer })
  document!: SignedRoot;

  /** `file` (AGENTBOX_OTA_ROOT_FILE) or `upload`. */
  @Column({ type: 'varchar', length: 16 })
  source!: string;

  @Column({ name: 'installed_by', type: 'varchar', length: 100 })
  installedBy!: string;

  @Column({ name: 'installed_at', type: Date })
  installedAt!: Date;
}

import { Logger } from '@nestjs/common';
import { In, type Repository } from 'typeorm';
import { type DesiredStateMessage, encodeMessage, SCHEMA_VERSION } from '@agentbox/schemas';
import type { SerialByKey } from '../../common/serial-by-key.js';
import { SqlDialect } from '../../database/sql-values.js';
import { DeviceStateRow } from './device-state.entity.js';
import { type ComposeSections, mergeSections, type SectionOwner } from './desired-sections.js';

/** Boxes locked, read, composed and bumped together: one SELECT, one INSERT and one UPDATE each. */
export const BULK_CHUNK = 500;
/** Publishes handed to the MQTT client and not yet acknowledged, across chunks. */
export const PUBLISH_WINDOW = 2_000;

/** One box of a bulk write and how its owner composes its sections. */
export interface BulkEntry {
  deviceId: string;
  compose: ComposeSections;
}

/** What became of each box so far: cumulative counts, reported after every box that settles. */
export interface BulkProgress {
  /** New version stored and its publish settled (acknowledged, failed and logged, or queued past the wait). */
  written: number;
  /** The owner had nothing to write. */
  unchanged: number;
  /** Nothing stored: the document would be too large, or the database refused the chunk. */
  failed: number;
}

interface Bump {
  deviceId: string;
  /** The document's spec as JSON, encoded once: stored, size-checked and published as is. */
  specJson: string;
  agentsFingerprint: string | undefined;
}

/** A bumped box: its new version and the message to publish. */
interface Bumped {
  deviceId: string;
  desiredVersion: number;
  payload: Buffer;
}

export interface BulkWriterDeps {
  states: Repository<DeviceStateRow>;
  serial: SerialByKey;
  /** Throws DesiredStateException when a document of `bytes` once encoded would pass the MQTT payload cap. */
  checkBytes(deviceId: string, bytes: number): void;
  /** Resolves once the broker acknowledged the publish, it failed, or the wait ran out (never rejects). */
  publish(row: Pick<DeviceStateRow, 'deviceId' | 'desiredVersion'>, payload: Buffer): Promise<void>;
}

/**
 * The bulk form of `DesiredStateService.write` for a change that reaches many boxes (docs/architecture.md,
 * "Fan-out"): the same per-box rules (serialised with every other write of the box, other owners' sections
 * kept, size checked, version + 1, published retained), but the database sees one round trip per chunk of
 * boxes instead of four per box, and the publishes are pipelined instead of awaited one by one.
 */
export class BulkDesiredWriter {
  private readonly logger = new Logger(BulkDesiredWriter.name);
  private readonly dialect: SqlDialect;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly deps: BulkWriterDeps) {
    this.dialect = new SqlDialect(deps.states.manager.connection);
  }

  async write(
    owner: SectionOwner,
    entries: readonly BulkEntry[],
    onProgress?: (progress: BulkProgress) => void,
  ): Promise<BulkProgress> {
    const progress: BulkProgress = { written: 0, unchanged: 0, failed: 0 };
    const report = () => onProgress?.({ ...progress });
    // A box twice in one chunk would wait on its own lock.
    const unique = [...new Map(entries.map((entry) => [entry.deviceId, entry])).values()];
    const published: Array<Promise<void>> = [];
    for (let start = 0; start < unique.length; start += BULK_CHUNK) {
      // The next chunk's reads and UPDATE overlap this chunk's publishes; only its locks wait for them.
      const chunk = await this.writeChunk(owner, unique.slice(start, start + BULK_CHUNK), progress, report);
      published.push(chunk.published);
    }
    await Promise.all(published);
    return progress;
  }

  /** Locks, composes and bumps one chunk; resolves once bumped, with its publishes (which release the locks). */
  private async writeChunk(
    owner: SectionOwner,
    chunk: readonly BulkEntry[],
    progress: BulkProgress,
    report: () => void,
  ): Promise<{ published: Promise<void> }> {
    const release = this.lock(chunk.map((entry) => entry.deviceId));
    await release.entered;
    let bumped: Bumped[];
    try {
      const outcome = await this.bump(owner, chunk);
      bumped = outcome.rows;
      progress.unchanged += outcome.unchanged;
      progress.failed += outcome.failed;
    } catch (error) {
      this.logger.error(
        `Writing the desired state of ${chunk.length} boxes failed: ${(error as Error).message}`,
      );
      progress.failed += chunk.length;
      release.done();
      report();
      return { published: Promise.resolve() };
    }
    report();
    const publishes = bumped.map(async (row) => {
      await this.slot();
      try {
        await this.deps.publish(row, row.payload);
      } finally {
        this.freeSlot();
        progress.written += 1;
        report();
      }
    });
    return { published: Promise.all(publishes).then(() => release.done()) };
  }

  /**
   * Takes each box's place in the per-box queue of `SerialByKey`. Every key of the chunk is queued in the
   * same synchronous loop, so two bulk writes (or a bulk and a single write) always queue in the same
   * order on the boxes they share and cannot wait on each other in a cycle.
   */
  private lock(deviceIds: readonly string[]): { entered: Promise<void>; done: () => void } {
    let done!: () => void;
    const released = new Promise<void>((resolve) => {
      done = resolve;
    });
    const entered = deviceIds.map(
      (deviceId) =>
        new Promise<void>((resolve) => {
          void this.deps.serial.run(deviceId, async () => {
            resolve();
            await released;
          });
        }),
    );
    return { entered: Promise.all(entered).then(() => undefined), done };
  }

  /** Composes every box of the chunk against its stored row and bumps the changed ones in one UPDATE. */
  private async bump(
    owner: SectionOwner,
    chunk: readonly BulkEntry[],
  ): Promise<{ rows: Bumped[]; unchanged: number; failed: number }> {
    const ids = chunk.map((entry) => entry.deviceId);
    const existing = new Map(
      (
        await this.deps.states.find({
          // What the owners compose from; the reported state (often the larger part) is left unread.
          select: {
            deviceId: true,
            desiredVersion: true,
            desiredSpec: true,
            desiredAt: true,
            agentsFingerprint: true,
          },
          where: { deviceId: In(ids) },
        })
      ).map((row) => [row.deviceId, row]),
    );
    const bumps: Bump[] = [];
    // The message at the largest version without its spec: each box adds its spec's bytes.
    const envelopeBytes =
      Buffer.byteLength(
        JSON.stringify({ v: SCHEMA_VERSION, version: Number.MAX_SAFE_INTEGER, ts: Date.now(), spec: {} }),
      ) - 2;
    let unchanged = 0;
    let failed = 0;
    for (const { deviceId, compose } of chunk) {
      const current = existing.get(deviceId) ?? null;
      // One box that cannot be composed (a key that cannot be sealed to) or is too large fails alone.
      try {
        const written = compose(current);
        if (written === null) {
          unchanged += 1;
          continue;
        }
        const specJson = JSON.stringify(mergeSections(owner, current, written.sections));
        this.deps.checkBytes(deviceId, envelopeBytes + Buffer.byteLength(specJson));
        bumps.push({ deviceId, specJson, agentsFingerprint: written.agentsFingerprint });
      } catch (error) {
        this.logger.error(`The desired state of ${deviceId} was not written: ${(error as Error).message}`);
        failed += 1;
      }
    }
    if (bumps.length === 0) return { rows: [], unchanged, failed };
    const now = new Date();
    const missing = bumps.filter((bump) => !existing.has(bump.deviceId));
    if (missing.length > 0) {
      await this.deps.states
        .createQueryBuilder()
        .insert()
        .into(DeviceStateRow)
        .values(
          missing.map(({ deviceId }) => ({ deviceId, desiredVersion: 0, desiredSpec: {}, desiredAt: now })),
        )
        .orIgnore()
        .execute();
    }
    const rows = await this.update(bumps, now);
    // A box whose row went away meanwhile (the box was removed) got nothing.
    return { rows, unchanged, failed: failed + bumps.length - rows.length };
  }

  /**
   * One UPDATE for the chunk, joined to the chunk's values (`UPDATE … FROM (VALUES …)`, the same on SQLite
   * and PostgreSQL, whose VALUES columns are both named column1, column2, …): the version is raised in SQL
   * (so it only grows, whatever another replica wrote) and read back with RETURNING.
   */
  private async update(bumps: readonly Bump[], now: Date): Promise<Bumped[]> {
    const params: unknown[] = [];
    // SQLite binds `?` in the order they appear: desired_at comes before the values.
    const at = this.dialect.param(params, now);
    const json = (placeholder: string) =>
      this.dialect.postgres ? `CAST(${placeholder} AS jsonb)` : placeholder;
    const values = bumps
      .map(
        (bump) =>
          `(${this.dialect.param(params, bump.deviceId)}, ${json(this.dialect.param(params, bump.specJson))}, ` +
          `${this.dialect.param(params, bump.agentsFingerprint ?? null)})`,
      )
      .join(', ');
    const sql =
      `UPDATE device_states SET desired_version = desired_version + 1, desired_spec = v.column2, ` +
      `agents_fingerprint = COALESCE(v.column3, device_states.agents_fingerprint), desired_at = ${at} ` +
      `FROM (VALUES ${values}) AS v WHERE device_states.device_id = v.column1 ` +
      `RETURNING device_states.device_id AS device_id, device_states.desired_version AS desired_version`;
    const raw: unknown = await this.deps.states.manager.query(sql, params);
    // PostgreSQL's driver answers an UPDATE with [rows, affected]; better-sqlite3 with the rows.
    const rows = (this.dialect.postgres ? (raw as [unknown[], number])[0] : raw) as Array<{
      device_id: string;
      desired_version: number | string;
    }>;
    const specs = new Map(bumps.map((bump) => [bump.deviceId, bump.specJson]));
    const ts = now.getTime();
    return rows.map((row) => {
      const desiredVersion = Number(row.desired_version);
      // The same bytes as encodeMessage({v, version, ts, spec}), without encoding the spec again.
      const payload = Buffer.from(
        `{"v":${SCHEMA_VERSION},"version":${desiredVersion},"ts":${ts},"spec":${specs.get(row.device_id) ?? '{}'}}`,
      );
      return { deviceId: row.device_id, desiredVersion, payload };
    });
  }

  private async slot(): Promise<void> {
    if (this.inFlight < PUBLISH_WINDOW) {
      this.inFlight += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot to the next waiting publish, if any (the count stays), or frees it. */
  private freeSlot(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight -= 1;
  }
}

/** The message published for a stored row (the same shape `DesiredStateService` publishes). */
export function desiredMessage(
  row: Pick<DeviceStateRow, 'desiredVersion' | 'desiredAt' | 'desiredSpec'>,
): Buffer {
  const message: DesiredStateMessage = {
    v: SCHEMA_VERSION,
    version: row.desiredVersion,
    ts: row.desiredAt.getTime(),
    spec: row.desiredSpec,
  };
  return encodeMessage(message);
}

import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import {
  type BirthMessage,
  type DeviceDto,
  type DeviceListQuery,
  type DeviceListResponse,
  type DeviceUpdateRequest,
} from '@agentbox/schemas';
import { isValidBoxPublicKey } from '@agentbox/sealed-secret';
import type { BrokerPasswordsPort, DeviceRegistryPort } from '../../common/ports.js';
import { Listeners } from '../../common/listeners.js';
import { hashMachineSecret, isMachineSecretHash, machineSecretMatches } from '../../common/machine-secret.js';
import { randomBase32, sha256Hex, verifySecret } from '../../common/secrets.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { CredentialCache } from './credential-cache.js';
import { Device } from './device.entity.js';
import { toDeviceDto } from './devices.dto.js';
import { DeviceException } from './devices.exception.js';

const SORT_COLUMNS = { name: 'd.name', lastSeenAt: 'd.last_seen_at', createdAt: 'd.created_at' } as const;

/** What composing a box's agents needs to know about it. */
export interface FleetTarget {
  id: string;
  tags: string[];
  secretsKey: string | null;
}

export function generateDeviceId(): string {
  return `box-${randomBase32(12)}`;
}

@Injectable()
export class DevicesService implements DeviceRegistryPort, BrokerPasswordsPort {
  private readonly logger = new Logger(DevicesService.name);
  private readonly credentials = new CredentialCache();
  /** Told after a box is deleted: the broker drops its credentials and session. */
  readonly removed = new Listeners<[deviceId: string]>();
  /** Told when what decides which agents a box runs changed (its tags, its secrets key). */
  readonly retargeted = new Listeners<[deviceIds: string[]]>();
  /** Told after a box reported itself online (its queued hook deliveries can go out). */
  readonly cameOnline = new Listeners<[deviceId: string]>();

  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    private readonly live: LiveEventsService,
  ) {}

  // ------------------------------------------------------------------ REST

  async list(query: DeviceListQuery): Promise<DeviceListResponse> {
    const qb = this.devices.createQueryBuilder('d');
    if (query.q !== undefined && query.q.trim() !== '') {
      const like = `%${query.q
        .trim()
        .toLowerCase()
        .replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere(
        "(LOWER(d.name) LIKE :like ESCAPE '\\' OR LOWER(d.id) LIKE :like ESCAPE '\\' OR LOWER(d.hardware_id) LIKE :like ESCAPE '\\')",
        { like },
      );
    }
    if (query.online !== undefined) qb.andWhere('d.online = :online', { online: query.online });
    if (query.tag !== undefined) {
      if (this.devices.manager.connection.options.type === 'postgres') {
        qb.andWhere('d.tags @> CAST(:tagJson AS jsonb)', { tagJson: JSON.stringify([query.tag]) });
      } else {
        qb.andWhere('EXISTS (SELECT 1 FROM json_each(d.tags) WHERE json_each.value = :tag)', {
          tag: query.tag,
        });
      }
    }
    const order = query.order === 'desc' ? 'DESC' : 'ASC';
    qb.orderBy(SORT_COLUMNS[query.sort], order)
      .addOrderBy('d.id', order)
      .skip(query.offset)
      .take(query.limit);
    const [rows, total] = await qb.getManyAndCount();
    return { items: rows.map(toDeviceDto), total };
  }

  async get(id: string): Promise<DeviceDto> {
    return toDeviceDto(await this.require(id));
  }

  async update(id: string, patch: DeviceUpdateRequest): Promise<DeviceDto> {
    const device = await this.require(id);
    if (patch.name !== undefined) device.name = patch.name;
    if (patch.tags !== undefined) device.tags = [...new Set(patch.tags)];
    device.updatedAt = new Date();
    await this.devices.save(device);
    this.live.publish({ type: 'device.updated', deviceId: id });
    // Tags decide which agents a box runs.
    if (patch.tags !== undefined) await this.retargeted.notify([id]);
    return toDeviceDto(device);
  }

  /** Deletes the device, then has the broker drop its credentials and session. */
  async remove(id: string): Promise<void> {
    const result = await this.devices.delete({ id });
    if (!result.affected) throw new DeviceException('DEVICE_NOT_FOUND', id);
    this.credentials.forget(id);
    await this.removed.notify(id);
    this.live.publish({ type: 'device.updated', deviceId: id });
  }

  // ------------------------------------------------------------------ provisioning

  /**
   * Enrols a box by hardware id: a new device, or the same device with a rotated secret when the
   * hardware id is already known (re-enrolling is idempotent). Only a salted HMAC of the secret is stored
   * (`common/machine-secret.ts`).
   */
  async enroll(
    hardwareId: string,
    name: string | undefined,
    secret: string,
  ): Promise<{ deviceId: string; created: boolean }> {
    const secretHash = hashMachineSecret(secret);
    const now = new Date();
    const existing = await this.devices.findOneBy({ hardwareId });
    if (existing) {
      await this.devices.update(
        { id: existing.id },
        // The sealed broker password was the old secret's: the broker module seals the new one.
        { secretHash, brokerPasswordSealed: null, updatedAt: now, ...(name ? { name } : {}) },
      );
      this.credentials.forget(existing.id);
      this.live.publish({ type: 'device.updated', deviceId: existing.id });
      return { deviceId: existing.id, created: false };
    }
    const id = generateDeviceId();
    try {
      await this.devices.insert({
        id,
        name: name ?? id,
        hardwareId,
        secretHash,
        tags: [],
        agentVersion: null,
        hardware: null,
        capabilities: [],
        metrics: [],
        online: false,
        lastSeenAt: null,
        connectedAt: null,
        secretsKey: null,
        createdAt: now,
        updatedAt: now,
      });
    } catch (error) {
      // Two claims for the same new hardware id at once: the loser rotates the winner's secret instead.
      const raced = await this.devices.findOneBy({ hardwareId });
      if (!raced) throw error;
      await this.devices.update(
        { id: raced.id },
        { secretHash, brokerPasswordSealed: null, updatedAt: new Date() },
      );
      this.credentials.forget(raced.id);
      return { deviceId: raced.id, created: false };
    }
    this.live.publish({ type: 'device.updated', deviceId: id });
    return { deviceId: id, created: true };
  }

  // ------------------------------------------------------------------ DeviceRegistryPort

  async verifyCredentials(deviceId: string, secret: string): Promise<boolean> {
    const key = sha256Hex(secret);
    const now = Date.now();
    const cached = this.credentials.lookup(deviceId, key, now);
    if (cached !== undefined) return cached;
    const row = await this.devices.findOne({
      where: { id: deviceId },
      select: { id: true, secretHash: true },
    });
    if (!row) return false;
    const ok = isMachineSecretHash(row.secretHash)
      ? machineSecretMatches(row.secretHash, secret)
      : await this.verifyLegacy(deviceId, row.secretHash, secret);
    this.credentials.record(deviceId, key, ok, now);
    return ok;
  }

  /**
   * Boxes enrolled before secrets were stored as salted HMACs have an argon2id hash: checked once more
   * that way, then replaced by the fast hash, so the box keeps its secret and needs no re-enrolment.
   */
  private async verifyLegacy(deviceId: string, hash: string, secret: string): Promise<boolean> {
    if (!(await verifySecret(hash, secret))) return false;
    // Only where the row still holds the hash just checked: a rotation meanwhile wins.
    await this.devices
      .update({ id: deviceId, secretHash: hash }, { secretHash: hashMachineSecret(secret) })
      .catch((error: Error) => {
        this.logger.warn(
          `Moving ${deviceId} to the fast secret hash failed (tried again at its next connect): ${error.message}`,
        );
      });
    return true;
  }

  async markOnline(deviceId: string, at: Date): Promise<void> {
    const result = await this.devices.update(
      { id: deviceId },
      { online: true, connectedAt: at, lastSeenAt: at },
    );
    if (!result.affected) return;
    this.live.publish({ type: 'device.status', deviceId, online: true, lastSeenAt: at.toISOString() });
    await this.cameOnline.notify(deviceId);
  }

  async markOffline(deviceId: string, at: Date): Promise<void> {
    const device = await this.devices.findOneBy({ id: deviceId });
    if (!device) return;
    // A late Last Will from an older session must not mark a box offline that has since reconnected.
    if (device.connectedAt && device.connectedAt.getTime() > at.getTime()) return;
    await this.devices.update({ id: deviceId }, { online: false });
    this.live.publish({
      type: 'device.status',
      deviceId,
      online: false,
      lastSeenAt: device.lastSeenAt?.toISOString() ?? null,
    });
  }

  async markAllOffline(): Promise<number> {
    const result = await this.devices.update({ online: true }, { online: false });
    return result.affected ?? 0;
  }

  async applyBirth(deviceId: string, birth: BirthMessage, at: Date): Promise<void> {
    let secretsKey: string | undefined;
    if (birth.secretsKey !== undefined) {
      if (isValidBoxPublicKey(birth.secretsKey)) secretsKey = birth.secretsKey;
      else this.logger.warn(`${deviceId} sent a secretsKey that is not an X25519 public key; ignored`);
    }
    const result = await this.devices.update(
      { id: deviceId },
      {
        agentVersion: birth.agentVersion,
        hardware: birth.hardware,
        capabilities: birth.capabilities,
        metrics: birth.metrics,
        lastSeenAt: at,
        updatedAt: new Date(),
        ...(secretsKey ? { secretsKey } : {}),
      },
    );
    if (!result.affected) return;
    this.live.publish({ type: 'device.updated', deviceId });
    // A new secrets key needs the provider keys sealed again; unchanged inputs publish nothing.
    await this.retargeted.notify([deviceId]);
  }

  // ------------------------------------------------------------------ broker passwords (dynamic security)

  /** Stores (or with null clears) a box's sealed broker password; never logged. */
  async storeBrokerPassword(deviceId: string, sealed: string | null): Promise<void> {
    await this.devices.update({ id: deviceId }, { brokerPasswordSealed: sealed });
  }

  /** Clears every stored broker password (dynamic security is off: nothing may need them). */
  async clearBrokerPasswords(): Promise<number> {
    const result = await this.devices
      .createQueryBuilder()
      .update(Device)
      .set({ brokerPasswordSealed: null })
      .where('broker_password_sealed IS NOT NULL')
      .execute();
    return result.affected ?? 0;
  }

  /** Every box's id, in id order. */
  async deviceIds(): Promise<string[]> {
    const rows = await this.devices.find({ select: { id: true }, order: { id: 'ASC' } });
    return rows.map((row) => row.id);
  }

  /** The sealed broker passwords of the given boxes (null: none stored; absent: no such box). */
  async sealedBrokerPasswords(ids: readonly string[]): Promise<Map<string, string | null>> {
    const found = new Map<string, string | null>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.devices.find({
        select: { id: true, brokerPasswordSealed: true },
        where: { id: In(unique.slice(i, i + 500)) },
      });
      for (const row of rows) found.set(row.id, row.brokerPasswordSealed);
    }
    return found;
  }

  /** Id, tags and secrets key of the given boxes (every box when `ids` is absent). */
  async fleetTargets(ids?: readonly string[]): Promise<FleetTarget[]> {
    const select = { id: true, tags: true, secretsKey: true } as const;
    if (ids === undefined) return this.devices.find({ select, order: { id: 'ASC' } });
    const unique = [...new Set(ids)];
    const rows: FleetTarget[] = [];
    for (let i = 0; i < unique.length; i += 500) {
      rows.push(...(await this.devices.find({ select, where: { id: In(unique.slice(i, i + 500)) } })));
    }
    return rows;
  }

  async touch(deviceIds: readonly string[], at: Date): Promise<void> {
    const unique = [...new Set(deviceIds)];
    for (let i = 0; i < unique.length; i += 500) {
      await this.devices.update({ id: In(unique.slice(i, i + 500)) }, { lastSeenAt: at });
    }
  }

  // ------------------------------------------------------------------ internals

  private async require(id: string): Promise<Device> {
    const device = await this.devices.findOneBy({ id });
    if (!device) throw new DeviceException('DEVICE_NOT_FOUND', id);
    return device;
  }
}

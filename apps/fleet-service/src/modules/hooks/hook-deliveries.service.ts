import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, Repository } from 'typeorm';
import type { HookDeliveryListResponse, HookDto, HookInvokeResponse } from '@agentbox/schemas';
import { SerialByKey } from '../../common/serial-by-key.js';
import { AgentTasksService } from '../agents/agent-tasks.service.js';
import { AgentException } from '../agents/agents.exception.js';
import { Device } from '../devices/device.entity.js';
import { DevicesService } from '../devices/devices.service.js';
import { HookDeliveryRow, type HookRow } from './hook.entity.js';

/** A delivery a replica claimed but never finished (it stopped) goes back to the queue after this. */
const STALE_CLAIM_MS = 5 * 60_000;
/** Deliveries that time out this often are marked failed. */
const MAX_ATTEMPTS = 3;
const EXPIRED = 'The box did not come online before the delivery expired';

/** The answer to a call that waits for its box. */
export type HookCallQueued = Extract<HookInvokeResponse, { deliveryId: string }>;

let lastIdMs = 0;
let idCounter = 0;
/** Time-ordered ids, so a box's deliveries go out in the order they came in (ties: a per-process counter). */
function deliveryId(now: number): string {
  if (now === lastIdMs) idCounter++;
  else {
    lastIdMs = now;
    idCounter = 0;
  }
  return `${now.toString(16).padStart(12, '0')}-${idCounter.toString(16).padStart(4, '0')}-${randomBytes(9).toString('hex')}`;
}

/**
 * The hook calls waiting for their box: queued while it is offline (or while earlier calls wait), and
 * delivered in order once it is back, by whichever replica claims them first (docs/architecture.md, "Hooks").
 */
@Injectable()
export class HookDeliveriesService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(HookDeliveriesService.name);
  private readonly perBox = new SerialByKey();
  private stopping = false;

  constructor(
    @InjectRepository(HookDeliveryRow) private readonly deliveries: Repository<HookDeliveryRow>,
    @InjectRepository(Device) private readonly deviceRows: Repository<Device>,
    private readonly devices: DevicesService,
    private readonly tasks: AgentTasksService,
  ) {}

  onModuleInit(): void {
    this.devices.cameOnline.add((deviceId) => {
      // Not awaited: ingest goes on with the box's next message while its deliveries go out.
      this.deliverSoon(deviceId);
      return Promise.resolve();
    });
  }

  /** Before the database closes (the TypeORM module closes it at application shutdown): no delivery is left running. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.perBox.idle();
  }

  /**
   * Sends a call to the hook's agent now when its box is online and no earlier call of the box waits
   * (they go first); otherwise queues it for the box.
   */
  async sendOrQueue(
    hook: HookRow,
    input: string,
    now: Date,
    online: boolean,
  ): Promise<{ runId: string } | HookCallQueued> {
    const waiting = await this.deliveries.existsBy({
      deviceId: hook.deviceId,
      status: In(['queued', 'delivering']),
    });
    if (!online || waiting) return this.enqueue(hook, input, now, online);
    try {
      return { runId: (await this.tasks.send(hook.agentId, hook.deviceId, input)).runId };
    } catch (error) {
      // The box went away since it was last seen online: the call waits for it.
      if (error instanceof AgentException && error.code === 'DEVICE_OFFLINE') {
        return this.enqueue(hook, input, now, false);
      }
      throw error;
    }
  }

  async list(hookId: string): Promise<HookDeliveryListResponse> {
    const rows = await this.deliveries.find({ where: { hookId }, order: { id: 'DESC' }, take: 200 });
    return {
      items: rows.map((row) => ({
        id: row.id,
        hookId: row.hookId,
        status: row.status,
        createdAt: row.createdAt.toISOString(),
        expiresAt: row.expiresAt.toISOString(),
        deliveredAt: row.deliveredAt?.toISOString() ?? null,
        runId: row.runId,
        error: row.error,
        bytes: Buffer.byteLength(row.input, 'utf8'),
      })),
    };
  }

  /** The deliveries of each hook by status (one in delivery counts as queued); hooks without any are absent. */
  async counts(hookIds: string[]): Promise<Map<string, HookDto['deliveries']>> {
    const counts = new Map<string, HookDto['deliveries']>();
    if (hookIds.length === 0) return counts;
    const rows = await this.deliveries
      .createQueryBuilder('d')
      .select('d.hook_id', 'hookId')
      .addSelect('d.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .where('d.hook_id IN (:...ids)', { ids: hookIds })
      .groupBy('d.hook_id')
      .addGroupBy('d.status')
      .getRawMany<{ hookId: string; status: string; count: string | number }>();
    for (const row of rows) {
      const entry = counts.get(row.hookId) ?? emptyDeliveryCounts();
      const key = row.status === 'delivering' ? 'queued' : row.status;
      if (key in entry) entry[key as keyof HookDto['deliveries']] += Number(row.count);
      counts.set(row.hookId, entry);
    }
    return counts;
  }

  /**
   * Marks overdue deliveries expired, puts back claims of a replica that stopped mid-delivery, and
   * delivers to the boxes online that have calls waiting.
   */
  async sweep(now: number): Promise<void> {
    if (this.stopping) return;
    await this.deliveries.update(
      { status: 'queued', expiresAt: LessThan(new Date(now)) },
      { status: 'expired', error: EXPIRED },
    );
    await this.deliveries.update(
      { status: 'delivering', claimedAt: LessThan(new Date(now - STALE_CLAIM_MS)) },
      { status: 'queued', claimedAt: null },
    );
    const waiting = await this.deliveries
      .createQueryBuilder('d')
      .select('DISTINCT d.device_id', 'deviceId')
      .where('d.status = :queued', { queued: 'queued' })
      .getRawMany<{ deviceId: string }>();
    if (waiting.length === 0) return;
    const online = await this.deviceRows.find({
      select: { id: true },
      where: { id: In(waiting.map((row) => row.deviceId)), online: true },
    });
    for (const device of online) this.deliverSoon(device.id);
  }

  private async enqueue(hook: HookRow, input: string, now: Date, online: boolean): Promise<HookCallQueued> {
    const row: HookDeliveryRow = {
      id: deliveryId(now.getTime()),
      hookId: hook.id,
      agentId: hook.agentId,
      deviceId: hook.deviceId,
      status: 'queued',
      input,
      attempts: 0,
      createdAt: now,
      expiresAt: new Date(now.getTime() + hook.deliveryTtlSec * 1000),
      claimedAt: null,
      deliveredAt: null,
      runId: null,
      error: null,
    };
    await this.deliveries.insert(row);
    if (online) this.deliverSoon(hook.deviceId);
    return { deliveryId: row.id, status: 'queued', expiresAt: row.expiresAt.toISOString() };
  }

  /** Starts delivering a box's queued calls, after any delivery of it in progress here. */
  private deliverSoon(deviceId: string): void {
    if (this.stopping) return;
    void this.perBox
      .run(deviceId, () => this.deliverQueued(deviceId))
      .catch((error: Error) => {
        this.logger.warn(`Delivering queued hook calls to ${deviceId} failed: ${error.message}`);
      });
  }

  /**
   * Delivers the box's queued calls one at a time, oldest first. Each is claimed in the database
   * (queued -> delivering, only while no other delivery of the box is in flight), so two replicas
   * never deliver the same one, nor two of one box at once.
   */
  private async deliverQueued(deviceId: string): Promise<void> {
    while (!this.stopping) {
      const next = await this.deliveries.findOne({
        where: { deviceId, status: 'queued' },
        order: { id: 'ASC' },
      });
      if (!next) return;
      if (next.expiresAt.getTime() <= Date.now()) {
        await this.deliveries.update(
          { id: next.id, status: 'queued' },
          { status: 'expired', error: EXPIRED },
        );
        continue;
      }
      const claimed = await this.deliveries
        .createQueryBuilder()
        .update(HookDeliveryRow)
        .set({ status: 'delivering', claimedAt: new Date(), attempts: () => 'attempts + 1' })
        .where('id = :id AND status = :queued', { id: next.id, queued: 'queued' })
        .andWhere(
          'NOT EXISTS (SELECT 1 FROM hook_deliveries other WHERE other.device_id = :deviceId AND other.status = :delivering)',
          { deviceId, delivering: 'delivering' },
        )
        .execute();
      if (!claimed.affected) return;
      const done = await this.deliverOne({ ...next, attempts: next.attempts + 1 });
      if (!done) return;
    }
  }

  /** Sends one claimed delivery; false when the box is not taking deliveries now (it stays queued). */
  private async deliverOne(delivery: HookDeliveryRow): Promise<boolean> {
    try {
      const { runId } = await this.tasks.send(delivery.agentId, delivery.deviceId, delivery.input);
      await this.deliveries.update(
        { id: delivery.id },
        { status: 'delivered', runId, deliveredAt: new Date(), error: null },
      );
      return true;
    } catch (error) {
      const code = error instanceof AgentException ? error.code : undefined;
      const message = (error as Error).message;
      if (code === 'DEVICE_OFFLINE' || (code === 'TASK_TIMEOUT' && delivery.attempts < MAX_ATTEMPTS)) {
        await this.deliveries.update(
          { id: delivery.id },
          { status: 'queued', claimedAt: null, error: message },
        );
        return false;
      }
      await this.deliveries.update({ id: delivery.id }, { status: 'failed', error: message.slice(0, 2000) });
      return true;
    }
  }
}

export function emptyDeliveryCounts(): HookDto['deliveries'] {
  return { queued: 0, delivered: 0, expired: 0, failed: 0 };
}

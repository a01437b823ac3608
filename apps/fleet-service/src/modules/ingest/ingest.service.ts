import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Subscription } from 'rxjs';
import { decodeUpMessage, type DecodedUpMessage, type ParsedTopic } from '@agentbox/schemas';
import {
  DEVICE_REGISTRY,
  UPDATE_REPORTS,
  type DeviceRegistryPort,
  type UpdateReportsPort,
} from '../../common/ports.js';
import { SerialByKey } from '../../common/serial-by-key.js';
import type { Settle } from '../../common/settlement.js';
import { AppConfig } from '../../config/app-config.js';
import { isStoreFault } from '../../database/database-errors.js';
import { DatabaseProbe } from '../../database/database-probe.js';
import { BrokerService, type InboundMessage } from '../broker/broker.service.js';
import { CommandSender } from '../broker/command-sender.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { DesiredStateService } from '../desired-state/desired-state.service.js';
import { DeviceEventsStore } from '../telemetry/device-events.store.js';
import { AgentRecordsWriter } from './agent-records-writer.js';
import { IngestMetrics } from './ingest-metrics.js';
import { SequenceGapMonitor } from './sequence-gap-monitor.js';
import { StorageConfirmations } from './storage-confirmations.js';
import { TelemetryBatchWriter } from './telemetry-batch-writer.js';

/**
 * Every message boxes publish under `up/`: decoded and validated against the wire contract, refused
 * messages counted by reason, the rest applied. Telemetry goes through the batch writer; status, birth,
 * state, events, update reports and results are applied in arrival order per box (a Last Will never overtakes `online`).
 */
@Injectable()
export class IngestService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Ingest');
  /** Messages other than batched records, applied in arrival order per box. */
  private readonly perBox = new SerialByKey();
  private subscription: Subscription | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly broker: BrokerService,
    @Inject(DEVICE_REGISTRY) private readonly registry: DeviceRegistryPort,
    private readonly desired: DesiredStateService,
    private readonly events: DeviceEventsStore,
    private readonly writer: TelemetryBatchWriter,
    private readonly records: AgentRecordsWriter,
    private readonly commands: CommandSender,
    private readonly live: LiveEventsService,
    private readonly metrics: IngestMetrics,
    @Inject(UPDATE_REPORTS) private readonly updateReports: UpdateReportsPort,
    private readonly database: DatabaseProbe,
    private readonly sequenceGaps: SequenceGapMonitor,
    private readonly confirmations: StorageConfirmations,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.sequenceGaps.load();
    this.subscription = this.broker.onMessage((message) => this.handle(message));
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.perBox.idle();
  }

  /** Resolves when every message handed in so far is applied (telemetry committed). */
  async drain(): Promise<void> {
    await this.perBox.idle();
    await Promise.all([this.writer.flush(), this.records.flush()]);
  }

  handle(inbound: InboundMessage): void {
    const decoded = decodeUpMessage(inbound.topic, inbound.payload, this.config.maxPayloadBytes);
    if (!decoded.ok) {
      this.metrics.reject(decoded.reason, inbound.topic, decoded.detail);
      inbound.settle('refused');
      return;
    }
    const message = decoded.value;
    // DecodedUpMessage types `topic` per channel narrowly enough to collapse for some channels; every variant has deviceId.
    const deviceId = (message.topic as ParsedTopic).deviceId;
    this.metrics.messages.inc({ channel: message.channel });
    // Messages from a box's spool say where they sit in it: the sequence-gap count follows them, and the
    // box hears they are stored once the gap mark covering them is written (down/stored).
    const spool = 'spool' in message.message ? message.message.spool : undefined;
    const settle = spool
      ? this.sequenceGaps.arrived(deviceId, spool, this.confirmations.after(deviceId, spool, inbound.settle))
      : inbound.settle;
    switch (message.channel) {
      case 'telemetry':
        this.writer.add(deviceId, message.message, inbound.receivedAt, settle);
        return;
      case 'runs':
        this.records.addRuns(deviceId, message.message, settle);
        return;
      case 'run-events':
        this.records.addRunEvents(deviceId, message.message, settle);
        return;
      case 'usage':
        this.records.addUsage(deviceId, message.message, settle);
        return;
      case 'results':
        // Handed to the waiting requester at once (it should not queue behind the box's other messages); nothing is stored.
        this.commands.resolve(deviceId, message.message);
        inbound.settle('stored');
        return;
      default:
        break;
    }
    this.inOrder(deviceId, () => this.apply(deviceId, message, new Date(inbound.receivedAt)), settle);
  }

  private async apply(
    deviceId: string,
    decoded: Exclude<
      DecodedUpMessage,
      { channel: 'telemetry' | 'runs' | 'run-events' | 'usage' | 'results' }
    >,
    at: Date,
  ): Promise<void> {
    switch (decoded.channel) {
      case 'status':
        if (decoded.message.state === 'online') {
          await this.registry.markOnline(deviceId, at);
          await this.desired.ensurePublished(deviceId);
        } else {
          await this.registry.markOffline(deviceId, at);
        }
        return;
      case 'birth':
        await this.registry.applyBirth(deviceId, decoded.message, at);
        return;
      case 'state':
        await this.desired.recordReported(deviceId, decoded.message, at);
        if (decoded.message.current.agents !== undefined)
          this.live.publish({ type: 'device.agents', deviceId });
        return;
      case 'events':
        await this.events.insert(deviceId, decoded.message);
        return;
      case 'update': {
        // A few reports per box per update: stored per message, in order; the leading replica's engine reads them.
        await this.updateReports.recordReports(deviceId, decoded.message, at);
        return;
      }
    }
  }

  /** Applies `work` after the box's previous messages; `settle` hears `stored` once it is applied. */
  private inOrder(deviceId: string, work: () => Promise<void>, settle: Settle): void {
    void this.perBox.run(deviceId, work).then(
      () => settle('stored'),
      async (error: Error) => {
        this.metrics.failure(
          `apply:${deviceId}`,
          `Applying a message of ${deviceId} failed: ${error.message}`,
        );
        // With the database away or full the box keeps the message and sends it again; one the database refuses is dropped.
        const refused = !isStoreFault(error) && (await this.database.writable());
        settle(refused ? 'refused' : 'busy');
      },
    );
  }
}

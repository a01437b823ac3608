import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';
import { Subject, type Subscription } from 'rxjs';
import { topics } from '@agentbox/schemas';
import { AppConfig } from '../../config/app-config.js';
import {
  BROKER_PASSWORDS,
  DEVICE_REGISTRY,
  type BrokerPasswordsPort,
  type BrokerPort,
  type DeviceRegistryPort,
} from '../../common/ports.js';
import { settleNothing } from '../../common/settlement.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SecretCipher } from '../secrets/secret-cipher.js';
import {
  SERVICE_CLIENT_ID_PREFIX,
  SERVICE_SESSION_EXPIRY_SEC,
  SERVICE_USERNAME,
} from './broker.constants.js';
import { BrokerRejections } from './broker-rejections.js';
import { DeferredAcks } from './deferred-acks.js';
import { DynsecAdmin } from './dynsec-admin.js';
import { DynsecReconciler, type Increment } from './dynsec-reconciler.js';
import { EmbeddedBroker } from './embedded-broker.js';
import type { InboundMessage } from './inbound-message.js';
import { MqttAuthorizer } from './mqtt-authorizer.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../common/private-files.js';

export type { InboundMessage } from './inbound-message.js';

/** Binds a sealed broker password to its device row. */
/** First wait before a message ingest could not take is offered again; doubled up to the maximum. */
const BUSY_RETRY_MS = 50;
const BUSY_RETRY_MAX_MS = 1_000;

const brokerPasswordAad = (deviceId: string) => `device:${deviceId}:brokerPassword`;

/**
 * The fleet service's side of MQTT (docs/protocol.md): either an embedded aedes broker enforcing the per-box
 * rules itself, or an external broker (Mosquitto with dynamic security, EMQX) that enforces them; in both
 * modes the service's own MQTT 5 client subscribes to every box's `up/` and publishes to `down/`.
 */
@Injectable()
export class BrokerService
  implements
    BrokerPort,
    OnModuleInit,
    OnApplicationBootstrap,
    BeforeApplicationShutdown,
    OnApplicationShutdown
{
  private readonly logger = new Logger(BrokerService.name);
  private readonly messages = new Subject<InboundMessage>();
  private readonly rejections: BrokerRejections;
  private readonly embedded: EmbeddedBroker | undefined;
  private readonly servicePassword: string;
  private readonly authorizer: MqttAuthorizer;
  private client: MqttClient | undefined;
  private dynsec: DynsecAdmin | undefined;
  private reconciler: DynsecReconciler | undefined;
  private readonly reconcileCounters: { recreated: Increment; unrecoverable: Increment };
  private stopping = false;
  private handlerFailures = 0;
  /** External broker: the shared ingest subscription is granted on the current connection. */
  private ingestSubscribed = false;

  constructor(
    private readonly config: AppConfig,
    @Inject(DEVICE_REGISTRY) private readonly registry: DeviceRegistryPort,
    metrics: MetricsService,
    @Inject(BROKER_PASSWORDS) private readonly passwords: BrokerPasswordsPort,
    private readonly cipher: SecretCipher,
  ) {
    this.rejections = new BrokerRejections(metrics);
    this.reconcileCounters = {
      recreated: metrics.counter({
        name: 'agentbox_mqtt_dynsec_clients_recreated_total',
        help: 'Boxes whose dynamic-security client or role the broker had lost, re-created by the service',
      }),
      unrecoverable: metrics.counter({
        name: 'agentbox_mqtt_dynsec_clients_unrecoverable_total',
        help: 'Boxes the broker had lost without a sealed broker password (they must re-enrol), per reconciliation pass',
      }),
    };
    const connected = metrics.gauge({
      name: 'agentbox_mqtt_connected_boxes',
      help: 'Boxes connected to the embedded MQTT broker',
    });
    // The embedded broker's service password lives only in memory: a fresh one every boot.
    this.servicePassword = randomBytes(32).toString('base64url');
    this.authorizer = new MqttAuthorizer(registry, this.servicePassword);
    // Boxes wait (CONNACK 0x88, they retry) until ingest's subscription is in place.
    this.authorizer.acceptingDevices = false;
    this.embedded = config.mqtt.externalUrl
      ? undefined
      : new EmbeddedBroker(this.authorizer, this.rejections, connected, (message) => this.receive(message));
  }

  get mode(): 'embedded' | 'external' {
    return this.embedded ? 'embedded' : 'external';
  }

  /** The port the embedded broker listens on; undefined with an external broker. */
  get port(): number | undefined {
    return this.embedded?.port;
  }

  async onModuleInit(): Promise<void> {
    if (this.embedded) {
      // Nobody is connected to a broker that is only starting, and the previous process's retained
      // statuses and wills died with it: every box is offline until it connects again.
      const reset = await this.registry.markAllOffline();
      if (reset > 0) this.logger.log(`marked ${reset} boxes offline until they reconnect to the new broker`);
      const portFile = join(this.config.dataDir, 'embedded-mqtt-port');
      const remembered = Number.parseInt(await readFile(portFile, 'utf8').catch(() => ''), 10);
      const port = await this.embedded.start({
        host: this.config.mqtt.host,
        port: this.config.mqtt.port,
        portExplicit: this.config.mqtt.portExplicit,
        fallbackPort: Number.isInteger(remembered) && remembered > 0 ? remembered : undefined,
        maxPayloadBytes: this.config.maxPayloadBytes,
        maxPendingConnects: this.config.mqtt.maxPendingConnects,
      });
      if (!this.config.mqtt.portExplicit && port !== this.config.mqtt.port) {
        await mkdir(this.config.dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
        await writeFile(portFile, `${port}\n`, { mode: PRIVATE_FILE_MODE });
      }
    }
  }

  /** Connects after every module's init, so ingest's handler is in place before the first (retained) message. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.dynsecEnabled()) {
      // Kept only to re-create clients on a dynamic-security broker: without one nothing may need them.
      const cleared = await this.passwords.clearBrokerPasswords();
      if (cleared > 0)
        this.logger.log(`cleared the stored broker passwords of ${cleared} boxes (dynamic security is off)`);
    }
    await this.connectServiceClient();
  }

  /**
   * Stops taking messages before any module's onApplicationShutdown runs: ingest unsubscribes and flushes
   * there, so a message acknowledged after that would be lost. The embedded broker goes first: boxes are
   * disconnected rather than acknowledged into a broker with no subscriber (it would drop their QoS 1
   * messages); an external broker keeps what arrives meanwhile in this replica's persistent session.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.reconciler?.stop();
    await this.embedded?.stop();
    await this.endClient();
  }

  onApplicationShutdown(): void {
    this.messages.complete();
  }

  publicUrl(): string {
    if (this.config.mqtt.publicUrl) return this.config.mqtt.publicUrl;
    if (this.config.mqtt.externalUrl) return this.config.mqtt.externalUrl;
    const host = this.config.publicUrl ? new URL(this.config.publicUrl).hostname : '127.0.0.1';
    return `mqtt://${host}:${this.embedded?.port ?? this.config.mqtt.port}`;
  }

  isReady(): boolean {
    const connected = this.client?.connected === true;
    // An external broker acknowledges box messages whether or not anyone takes them: until the ingest
    // subscription is back after a (re)connect, what boxes publish is not on its way to the database.
    return this.embedded ? this.embedded.isListening() && connected : connected && this.ingestSubscribed;
  }

  async upsertDeviceCredentials(deviceId: string, secret: string): Promise<void> {
    // The embedded broker checks every CONNECT against the device registry itself.
    if (this.embedded) return;
    if (this.dynsec) {
      // Sealed before the broker has it: a client the broker loses later is re-created with this password.
      await this.passwords.storeBrokerPassword(
        deviceId,
        this.cipher.encrypt(secret, brokerPasswordAad(deviceId)),
      );
      await this.dynsec.upsertDevice(deviceId, secret);
      return;
    }
    this.logger.debug(
      `External broker without dynamic security: credentials of ${deviceId} are managed by the broker`,
    );
  }

  async removeDevice(deviceId: string): Promise<void> {
    if (this.embedded) this.embedded.disconnect(deviceId);
    else await this.dynsec?.removeDevice(deviceId);
    // MQTT-3.3.1-6: an empty retained payload deletes the retained desired document of the removed box.
    await this.publish(topics.desired(deviceId), Buffer.alloc(0), { qos: 1, retain: true }).catch(
      (error: Error) => {
        this.logger.warn(`Clearing the retained desired state of ${deviceId} failed: ${error.message}`);
      },
    );
  }

  async publishDesired(deviceId: string, payload: Buffer): Promise<void> {
    // Retained, so a box finds its whole desired state after every (re)connect (docs/protocol.md section 5).
    await this.publish(topics.desired(deviceId), payload, { qos: 1, retain: true });
  }

  /** Publishes as the service account (allowed: every box's `down/`); on the embedded broker, in process. */
  async publish(
    topic: string,
    payload: Buffer | string,
    options: IClientPublishOptions = { qos: 1 },
  ): Promise<void> {
    if (this.embedded) {
      const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
      await this.embedded.publish(topic, bytes, {
        qos: options.qos === 0 ? 0 : 1,
        retain: options.retain ?? false,
        ...(options.properties ? { properties: options.properties } : {}),
      });
      return;
    }
    const client = this.client;
    if (!client) throw new Error('the MQTT client is not started');
    await client.publishAsync(topic, payload, options);
  }

  /**
   * A plain (not shared) subscription of this replica, e.g. to one command's result topic: with the shared
   * ingest subscription of an external broker, the result might otherwise reach another replica only.
   */
  async subscribeDirect(filter: string): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('the MQTT client is not started');
    await client.subscribeAsync(filter, { qos: 1 });
  }

  async unsubscribeDirect(filter: string): Promise<void> {
    await this.client?.unsubscribeAsync(filter).catch(() => undefined);
  }

  /** Everything boxes publish under `up/`; the ingest module is the one consumer. */
  onMessage(handler: (message: InboundMessage) => void): Subscription {
    return this.messages.subscribe((message) => {
      // A throwing handler must neither end the subscription nor crash the process: log and keep serving.
      try {
        handler(message);
      } catch (error) {
        this.handlerFailures += 1;
        if (this.handlerFailures === 1 || this.handlerFailures % 1_000 === 0) {
          this.logger.error(
            `Message handler failed (${this.handlerFailures} so far): ${(error as Error).message}`,
          );
        }
        message.settle('refused');
      }
    });
  }

  /**
   * External broker: a message ingest cannot take yet (its buffer is full: a burst, or the database away)
   * waits here and is offered again, instead of dropping the connection. Dropping it would make the broker
   * deliver again every message not yet acknowledged, those already committed included, since PUBACKs go out
   * in order: under a long burst that became a loop of redeliveries that stored nothing new. The wait is
   * bounded by the session's Receive Maximum. Only a stopping service lets `busy` through, and the
   * connection then drops as before.
   */
  private receiveHeld(message: InboundMessage, attempt = 0): void {
    this.receive({
      ...message,
      settle: (settlement) => {
        if (settlement !== 'busy' || this.stopping || this.messages.closed) {
          message.settle(settlement);
          return;
        }
        const delay = Math.min(BUSY_RETRY_MAX_MS, BUSY_RETRY_MS * 2 ** Math.min(attempt, 5));
        setTimeout(() => this.receiveHeld(message, attempt + 1), delay).unref();
      },
    });
  }

  private receive(message: InboundMessage): void {
    // Nobody to hand it to (the service is stopping): unacknowledged, the box sends it again later.
    if (this.messages.closed || !this.messages.observed) {
      message.settle('busy');
      return;
    }
    this.messages.next(message);
  }

  /**
   * Stable per replica and distinct between replicas: AGENTBOX_REPLICA_ID, else the host name and data dir.
   * Two replicas sharing one id would take each other's session over.
   */
  private replicaId(): string {
    const id =
      this.config.replicaId ??
      `${hostname()}-${createHash('sha256').update(this.config.dataDir).digest('hex').slice(0, 8)}`;
    return id.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 80);
  }

  private async connectServiceClient(): Promise<void> {
    const external = this.config.mqtt.externalUrl;
    const url = external ?? `mqtt://${this.localHost()}:${this.embedded?.port ?? 0}`;
    const client = mqtt.connect(url, {
      protocolVersion: 5,
      clientId: external
        ? `${SERVICE_CLIENT_ID_PREFIX}${this.replicaId()}`
        : `${SERVICE_CLIENT_ID_PREFIX}${randomUUID()}`,
      username: external ? this.config.mqtt.username : SERVICE_USERNAME,
      password: external ? this.config.mqtt.password : this.servicePassword,
      // External broker: a persistent session per replica (MQTT-3.1.2-4, session expiry MQTT-3.1.2-11), so QoS 1
      // messages that boxes publish while this replica is away (its restart, or the broker's) are queued, not dropped.
      // The embedded broker lives in this process: nothing can arrive while it is away.
      clean: !external,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
      properties: {
        maximumPacketSize: this.config.maxPayloadBytes * 2 + 65_536,
        // MQTT-3.1.2-11 Session Expiry; section 3.1.2.11.3 Receive Maximum: the broker sends at most this many
        // unacknowledged QoS 1 messages and queues the rest, so what waits in this process stays bounded.
        ...(external
          ? {
              sessionExpiryInterval: SERVICE_SESSION_EXPIRY_SEC,
              receiveMaximum: this.config.ingest.receiveMaximum,
            }
          : {}),
      },
    });
    this.client = client;
    // The embedded broker's own client takes no box messages (they reach ingest inside the broker).
    const acks = external ? new DeferredAcks(client) : undefined;
    client.on('message', (topic, payload, packet) => {
      const settle = acks && packet.qos === 1 ? acks.track(packet.messageId) : settleNothing;
      if (topic.startsWith('$CONTROL/')) {
        settle('stored');
        return;
      }
      this.receiveHeld({ topic, payload, receivedAt: Date.now(), settle });
    });
    client.on('error', (error) => {
      if (!this.stopping) this.logger.warn(`MQTT client error: ${error.message}`);
    });
    client.on('close', () => {
      this.ingestSubscribed = false;
    });
    client.on('offline', () => {
      if (!this.stopping)
        this.logger.warn(`MQTT client lost the broker at ${this.redacted(url)}; reconnecting`);
    });
    client.on('connect', () => {
      this.logger.log(`MQTT client connected to ${this.redacted(url)}`);
      // The embedded broker hands what boxes publish to ingest itself, before it acknowledges it.
      if (this.embedded) {
        this.authorizer.acceptingDevices = true;
        return;
      }
      // Subscribe after every (re)connect, even when the broker says it kept the session: a restarted
      // Mosquitto restores persistent sessions without their shared subscriptions. Subscribing again
      // replaces the existing subscription (MQTT-3.8.4-3); `resubscribe` makes mqtt.js send it although it
      // remembers the filter. The shared subscription spreads ingest across replicas (MQTT-4.8.2).
      const filter = topics.sharedAllUpFilter();
      client
        .subscribeAsync({ [filter]: { qos: 1 }, resubscribe: true } as unknown as Record<string, { qos: 1 }>)
        .then(
          (granted) => {
            const code = granted[0]?.qos ?? 0;
            if (code >= 0x80) {
              this.logger.error(
                `The broker refused the ingest subscription ${filter} (0x${code.toString(16)})`,
              );
              return;
            }
            this.ingestSubscribed = true;
            this.authorizer.acceptingDevices = true;
          },
          (error: Error) => this.logger.error(`Subscribing to ${filter} failed: ${error.message}`),
        );
    });
    if (external && this.config.mqtt.dynsec) {
      const dynsec = new DynsecAdmin(client);
      const reconciler = new DynsecReconciler(dynsec, this.passwords, {
        open: (sealed, deviceId) => this.cipher.decrypt(sealed, brokerPasswordAad(deviceId)),
        ...this.reconcileCounters,
      });
      // After DynsecAdmin's own connect listener (it forgets a lost response subscription): a broker
      // restarted from an old or unwritable dynamic-security.json is checked as soon as it is back.
      client.on('connect', () => void reconciler.run());
      reconciler.start(this.config.mqtt.dynsecReconcileMs);
      this.dynsec = dynsec;
      this.reconciler = reconciler;
    }
    if (this.embedded) {
      // Local and immediate; the external broker may come later (readyz reports it meanwhile).
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
    }
  }

  /** Ends gracefully (in-flight publishes go out) while the broker answers, and never waits on a dead one. */
  private async endClient(): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      let timer: NodeJS.Timeout | undefined;
      const graceful = client.endAsync(false).then(
        () => true,
        () => false,
      );
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 5_000);
      });
      const ended = await Promise.race([graceful, timedOut]);
      clearTimeout(timer);
      if (ended) return;
    }
    await client.endAsync(true).catch(() => undefined);
  }

  private dynsecEnabled(): boolean {
    return this.config.mqtt.externalUrl !== undefined && this.config.mqtt.dynsec;
  }

  private localHost(): string {
    const host = this.config.mqtt.host;
    if (host === '0.0.0.0') return '127.0.0.1';
    if (host === '::') return '[::1]';
    return host.includes(':') ? `[${host}]` : host;
  }

  private redacted(url: string): string {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

import { Injectable, Logger } from '@nestjs/common';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import {
  SCHEMA_VERSION,
  encodeMessage,
  parseTopic,
  topics,
  type DownChannel,
  type ParsedTopic,
  type StatusMessage,
} from '@agentbox/schemas';
import { backoffDelay, sleep } from '@agentbox/retry';
import { RateLimitedLog } from '@agentbox/logging';
import { BoxConfig } from '../../config/box-config.js';
import { CLOUD_BACKOFF } from '../../common/backoff.js';
import { IdentityService } from '../identity/identity.service.js';
import { SequenceService } from '../sequence/sequence.service.js';
import { BirthService } from './birth.service.js';
import { LinkException, LinkExceptionCode } from './link.exception.js';

/** MQTT 5 CONNACK reason codes that mean "your credentials are not good" (MQTT-3.2.2.2). */
const BAD_CREDENTIALS = new Set([0x86, 0x87]);
const NO_MATCHING_SUBSCRIBERS = 0x10;

/**
 * PUBACK reason codes of 0x80 or more that mean "not now" rather than "never" (MQTT-3.4.2.1, docs/protocol.md
 * "Acknowledged means stored"): Unspecified error (0x80) and Implementation specific error (0x83), which a
 * broker or cloud in trouble may answer; Packet Identifier in use (0x91); Quota exceeded (0x97), a full queue.
 * Every other one (0x87 Not authorized, 0x90 Topic Name invalid, 0x99 Payload format invalid) is for good.
 */
const DEFERRING_PUBACK_CODES: ReadonlySet<number> = new Set([0x80, 0x83, 0x91, 0x97]);

/** What a PUBACK reason code of 0x80 or more tells the box to do with the message. */
export function pubackOutcome(reasonCode: number): 'refused' | 'deferred' {
  return DEFERRING_PUBACK_CODES.has(reasonCode) ? 'deferred' : 'refused';
}

/**
 * CONNACK reason codes with which a broker asks the box to come back later (MQTT 5.0 section 3.2.2.2):
 * 0x89 Server busy, 0x9F Connection rate exceeded. The fleet's embedded broker answers 0x89 while a whole
 * fleet reconnects after a restart of the service.
 */
const BUSY_CONNACK_CODES: ReadonlySet<number> = new Set([0x89, 0x9f]);
/** Least wait after a busy refusal; the actual wait is jittered over as long again. */
export const BUSY_RETRY_MIN_MS = 5_000;

/**
 * How long the box waits before its next connect attempt. The usual backoff starts below a second, which
 * would bring every box the broker just refused as busy back at once; after a busy refusal the box waits
 * at least BUSY_RETRY_MIN_MS, spread over as long again so the refused boxes come back one by one.
 */
export function reconnectDelay(
  failures: number,
  refusedAsBusy: boolean,
  random: () => number = Math.random,
): number {
  const delay = backoffDelay(failures, CLOUD_BACKOFF, random);
  if (!refusedAsBusy) return delay;
  return Math.max(delay, BUSY_RETRY_MIN_MS + Math.floor(random() * BUSY_RETRY_MIN_MS));
}

const CONNECT_TIMEOUT_MS = 15_000;
const OFFLINE_PUBLISH_TIMEOUT_MS = 3_000;
const STABLE_CONNECTION_MS = 10_000;

export interface InboundMessage {
  topic: Extract<ParsedTopic, { direction: 'down' }>;
  payload: Buffer;
  properties: IPublishPacket['properties'];
}

export type InboundHandler = (message: InboundMessage) => void | Promise<void>;

export interface PublishOptions {
  retain?: boolean;
  properties?: IPublishPacket['properties'];
  /** Reject with NO_SUBSCRIBERS when the broker says nobody received it (PUBACK 0x10), so it is sent again. */
  requireSubscriber?: boolean;
}

interface SessionOutcome {
  connected: boolean;
  /** When subscribe + online + birth completed on this connection. */
  readyAt?: number;
  badCredentials: boolean;
  /** The broker refused the CONNECT as busy (BUSY_CONNACK_CODES). */
  busy: boolean;
}

/**
 * The box's one MQTT 5 connection to the fleet.
 *
 * Session choice: clean start true with session expiry 0. Durability of what the box sends comes
 * from the on-disk spool (it survives kill -9, which an in-memory MQTT session on the box does
 * not), the desired state is retained and re-read after every connect, and commands queued in a
 * broker session while the box was away would mostly be expired by the time they arrive. A clean
 * session also means the broker holds nothing for a box that never comes back.
 *
 * Reconnects are driven here (mqtt.js reconnectPeriod 0) with capped, fully jittered exponential
 * backoff, and each attempt is a fresh client, so no state leaks from one connection to the next.
 */
@Injectable()
export class LinkService {
  private readonly logger = new Logger(LinkService.name);
  private readonly rateLimited = new RateLimitedLog(30_000);
  /** Packet ids whose PUBACK said 0x10; read (and removed) by the publish that sent them. */
  private readonly unheardAcks = new Set<number>();
  private readonly abort = new AbortController();
  private readonly upListeners = new Set<() => void>();
  private readonly downListeners = new Set<() => void>();
  private readonly handlers = new Map<DownChannel, InboundHandler>();
  /** The client of the current attempt, connected or not. */
  private attempt: MqttClient | undefined;
  /** Set once subscribe + online + birth are done on the current connection. */
  private ready: MqttClient | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private reenrolled = false;
  private enrolling = false;
  private lastProgressAt = Date.now();
  /** Seq of the Last Will for the next CONNECT, while no CONNECT has carried it yet. */
  private willSeq: number | undefined;
  /** Number of connections that completed subscribe + online + birth. */
  connections = 0;

  constructor(
    private readonly config: BoxConfig,
    private readonly identity: IdentityService,
    private readonly seq: SequenceService,
    private readonly birth: BirthService,
  ) {}

  get connected(): boolean {
    return this.ready !== undefined;
  }

  /** Called after every connect, once `online`, birth and the `down/#` subscription are done. */
  onUp(listener: () => void): () => void {
    this.upListeners.add(listener);
    return () => this.upListeners.delete(listener);
  }

  onDown(listener: () => void): () => void {
    this.downListeners.add(listener);
    return () => this.downListeners.delete(listener);
  }

  /** One handler per `down/` channel; messages for other devices or unknown topics are dropped. */
  handle(channel: DownChannel, handler: InboundHandler): void {
    this.handlers.set(channel, handler);
  }

  /**
   * For the watchdog: the link loop is alive when it made progress recently: a packet from the
   * broker while connected (at least PINGRESP every keepalive), or a connect attempt while not.
   */
  isHealthy(now = Date.now()): boolean {
    if (this.stopping) return false;
    // Not started yet (first enrolment) or re-enrolling: the provisioning client's own retries are the loop.
    if (!this.loop || this.enrolling) return true;
    const window = Math.max(3 * this.config.keepaliveSec * 1_000, 2 * CONNECT_TIMEOUT_MS + 30_000);
    return now - this.lastProgressAt < window;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** QoS 1 publish on the current connection; resolves on PUBACK, rejects when not connected or refused. */
  async publish(topic: string, message: unknown, options: PublishOptions = {}): Promise<void> {
    const client = this.ready ?? this.attempt;
    if (!client?.connected)
      throw new LinkException(LinkExceptionCode.NOT_CONNECTED, 'not connected to the broker');
    await this.publishOn(client, topic, encodeMessage(message), options);
  }

  /** Publishes `offline` (retained), then disconnects normally, so the broker discards the will (MQTT-3.1.2-10). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    const client = this.ready;
    if (client?.connected) {
      try {
        const offline: StatusMessage = {
          v: SCHEMA_VERSION,
          seq: this.seq.next(),
          ts: Date.now(),
          state: 'offline',
          reason: 'shutdown',
        };
        await withTimeout(
          this.publishOn(client, topics.status(this.identity.deviceId), encodeMessage(offline), {
            retain: true,
          }),
          OFFLINE_PUBLISH_TIMEOUT_MS,
        );
      } catch (error) {
        this.logger.warn({ err: error }, 'could not publish offline before disconnecting');
      }
      // MQTT-3.14.4-3: on a DISCONNECT with reason 0x00 the server discards the will.
      await withTimeout(client.endAsync(false, { reasonCode: 0 }), OFFLINE_PUBLISH_TIMEOUT_MS).catch(() =>
        client.end(true),
      );
    } else {
      this.attempt?.end(true);
    }
    await this.loop;
    this.logger.log('disconnected');
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      this.lastProgressAt = Date.now();
      const outcome = await this.session();
      if (this.stopping) break;
      // Reset the backoff only after a connection that held: a broker that accepts and then drops
      // the box at once must not get a reconnect storm.
      if (outcome.readyAt !== undefined && Date.now() - outcome.readyAt >= STABLE_CONNECTION_MS) failures = 0;
      if (outcome.badCredentials && (await this.tryReenroll())) continue;
      const delay = reconnectDelay(failures, outcome.busy);
      failures += 1;
      this.logger.log({ retryInMs: delay, attempt: failures, busy: outcome.busy }, 'reconnecting');
      await sleep(delay, this.abort.signal);
    }
  }

  /** The broker refused the stored secret: enroll again once with the claim token (same hardware id, same device). */
  private async tryReenroll(): Promise<boolean> {
    if (this.reenrolled || !this.identity.canReenroll()) {
      if (this.rateLimited.take('bad-credentials') !== null) {
        this.logger.error(
          'the broker refused the stored credentials; set AGENTBOX_CLAIM_TOKEN to a valid claim token to re-enroll this box',
        );
      }
      return false;
    }
    this.reenrolled = true;
    this.logger.warn('the broker refused the stored credentials; re-enrolling with the claim token');
    this.enrolling = true;
    try {
      await this.identity.enroll(this.abort.signal);
      return true;
    } catch (error) {
      this.logger.error({ err: error }, 're-enrolment failed');
      return false;
    } finally {
      this.enrolling = false;
      this.lastProgressAt = Date.now();
    }
  }

  private session(): Promise<SessionOutcome> {
    const deviceId = this.identity.deviceId;
    const url = this.identity.mqttUrl;
    const options = this.connectOptions(deviceId);
    return new Promise<SessionOutcome>((resolve) => {
      const outcome: SessionOutcome = { connected: false, badCredentials: false, busy: false };
      const client = mqtt.connect(url, options);
      this.attempt = client;
      client.on('packetsend', (packet) => {
        if (packet.cmd === 'connect') this.willSeq = undefined;
      });
      client.on('packetreceive', (packet) => {
        this.lastProgressAt = Date.now();
        // MQTT 5 PUBACK 0x10 (MQTT-3.4.2.1): accepted, but nobody was subscribed, so nobody got it.
        if (
          packet.cmd === 'puback' &&
          packet.reasonCode === NO_MATCHING_SUBSCRIBERS &&
          packet.messageId !== undefined
        ) {
          this.unheardAcks.add(packet.messageId);
        }
      });
      client.on('error', (error: Error & { code?: unknown }) => {
        if (typeof error.code === 'number' && BAD_CREDENTIALS.has(error.code)) outcome.badCredentials = true;
        if (typeof error.code === 'number' && BUSY_CONNACK_CODES.has(error.code)) outcome.busy = true;
        const suppressed = this.rateLimited.take(
          `error:${typeof error.code === 'number' ? error.code : error.message}`,
        );
        if (suppressed !== null)
          this.logger.warn({ url, code: error.code, suppressed }, `mqtt: ${error.message}`);
      });
      client.on('message', (topic, payload, packet) => this.dispatch(deviceId, topic, payload, packet));
      client.once('connect', () => {
        outcome.connected = true;
        this.announce(client, deviceId).then(
          () => {
            if (!client.connected) return;
            this.ready = client;
            outcome.readyAt = Date.now();
            this.connections += 1;
            this.logger.log({ url, deviceId, connections: this.connections }, 'connected');
            for (const listener of this.upListeners) listener();
          },
          (error: unknown) => {
            this.logger.warn({ err: error }, 'connected, but announcing the box failed; reconnecting');
            client.end(true);
          },
        );
      });
      client.once('close', () => {
        const wasReady = this.ready === client;
        this.ready = undefined;
        if (this.attempt === client) this.attempt = undefined;
        // Fails the callbacks of publishes still in flight (mqtt.js flushes them on a forced end).
        client.end(true);
        if (wasReady) {
          if (!this.stopping) this.logger.warn({ url }, 'connection lost');
          for (const listener of this.downListeners) listener();
        }
        resolve(outcome);
      });
    });
  }

  /** MQTT 5, clean start without a session, and the Last Will `offline` (retained). */
  private connectOptions(deviceId: string): IClientOptions {
    // A will seq is spent only once a CONNECT carrying it went out: an attempt refused at the TCP
    // level never registered its will anywhere, so the next attempt may reuse the number.
    this.willSeq ??= this.seq.next();
    const will: StatusMessage = {
      v: SCHEMA_VERSION,
      seq: this.willSeq,
      ts: Date.now(),
      state: 'offline',
      reason: 'connection lost',
    };
    return {
      protocolVersion: 5,
      clientId: deviceId,
      username: deviceId,
      password: this.identity.credentials.mqtt.password,
      clean: true,
      // MQTT-3.1.2-22/24: the broker closes the link (and sends the will) after 1.5 x keepalive of silence.
      keepalive: this.config.keepaliveSec,
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
      properties: { sessionExpiryInterval: 0 },
      // MQTT-3.1.2-8/9: published by the broker if the connection ends without a normal DISCONNECT.
      will: { topic: topics.status(deviceId), payload: encodeMessage(will), qos: 1, retain: true },
    };
  }

  /**
   * After every connect: the `down/#` subscription, then `online` (retained), then birth. The fleet
   * sends commands to a box it sees online, and the session is clean: subscribed first, the box hears
   * a command sent the moment it is announced, instead of the broker dropping it for want of a subscriber.
   */
  private async announce(client: MqttClient, deviceId: string): Promise<void> {
    // The retained `down/desired` is delivered right after this subscription (MQTT-3.3.1-6).
    const granted = await client.subscribeAsync(topics.deviceDownFilter(deviceId), { qos: 1 });
    const refused = granted.find((grant) => grant.qos >= 0x80);
    if (refused)
      throw new Error(`the broker refused the subscription to ${refused.topic} (reason ${refused.qos})`);
    const online: StatusMessage = {
      v: SCHEMA_VERSION,
      seq: this.seq.next(),
      ts: Date.now(),
      state: 'online',
    };
    await this.publishOn(client, topics.status(deviceId), encodeMessage(online), { retain: true });
    const birth = await this.birth.build(this.seq.next());
    await this.publishOn(client, topics.birth(deviceId), encodeMessage(birth), {});
  }

  private async publishOn(
    client: MqttClient,
    topic: string,
    payload: Buffer,
    options: PublishOptions,
  ): Promise<void> {
    try {
      const delivery = client.publishAsync(topic, payload, {
        qos: 1,
        retain: options.retain ?? false,
        properties: options.properties,
      });
      // mqtt.js allocates the packet id synchronously; its PUBACK reason 0x10 is only visible on the packet.
      const messageId = client.getLastMessageId();
      await delivery;
      if (this.unheardAcks.delete(messageId) && options.requireSubscriber) {
        throw new LinkException(
          LinkExceptionCode.NO_SUBSCRIBERS,
          `nobody is subscribed to ${topic} yet`,
          NO_MATCHING_SUBSCRIBERS,
        );
      }
    } catch (error) {
      if (error instanceof LinkException) throw error;
      const reasonCode = (error as { code?: unknown }).code;
      if (typeof reasonCode === 'number' && reasonCode >= 0x80) {
        const deferred = pubackOutcome(reasonCode) === 'deferred';
        throw new LinkException(
          deferred ? LinkExceptionCode.PUBLISH_DEFERRED : LinkExceptionCode.PUBLISH_REFUSED,
          `the broker ${deferred ? 'did not take' : 'refused'} ${topic} (0x${reasonCode.toString(16)}): ${(error as Error).message}`,
          reasonCode,
        );
      }
      throw new LinkException(LinkExceptionCode.NOT_CONNECTED, (error as Error).message);
    }
  }

  private dispatch(deviceId: string, topic: string, payload: Buffer, packet: IPublishPacket): void {
    const parsed = parseTopic(topic);
    if (parsed === null || parsed.direction !== 'down' || parsed.deviceId !== deviceId) {
      if (this.rateLimited.take('unexpected-topic') !== null)
        this.logger.warn({ topic: topic.slice(0, 200) }, 'message on an unexpected topic dropped');
      return;
    }
    const handler = this.handlers.get(parsed.channel);
    if (!handler) return;
    Promise.resolve()
      .then(() => handler({ topic: parsed, payload, properties: packet.properties }))
      .catch((error: unknown) =>
        this.logger.error({ err: error, channel: parsed.channel }, 'handler failed'),
      );
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

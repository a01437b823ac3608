import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { z } from 'zod';
import {
  CommandMessageSchema,
  DesiredStateMessageSchema,
  SCHEMA_VERSION,
  StoredMessageSchema,
  encodeMessage,
  parseTopic,
  topics,
  COMMAND_NAMES,
  type CommandMessage,
  type CommandStatus,
  type DownChannel,
  type DesiredStateMessage,
  type HardwareInfo,
  type StoredMessage,
  type TelemetrySample,
  type UpChannel,
  type UpdateOffer,
  type UpdateStatus,
  type UpdateStatusReport,
  type upMessageSchemas,
} from '@agentbox/schemas';
import { updateReports, type UpdateBehaviour } from './simulated-box-updates.js';

/** Every `up/` channel a box publishes on its own; results answer a command (see `commands`). */
export type BoxChannel = Exclude<UpChannel, 'results'>;

/** What a box puts in a message on `channel`: the message without the envelope (`v`, `seq`, `ts`). */
export type BoxMessageBody<K extends BoxChannel> = Omit<
  z.input<(typeof upMessageSchemas)[K]>,
  'v' | 'seq' | 'ts'
>;

export interface EnvelopeOptions {
  /** The sequence number; by default the box's next one. A number given here is never handed out again. */
  seq?: number;
  /** When the message was made (ms since the epoch); now by default. */
  ts?: number;
}

export interface PublishOptions extends EnvelopeOptions {
  retain?: boolean;
}

/** How a box answers a command: `undefined` means it stays silent. */
export interface CommandAnswer {
  status: CommandStatus;
  output?: unknown;
  error?: string;
}
export type CommandHandler = (
  command: CommandMessage,
  box: SimulatedBox,
) => CommandAnswer | undefined | Promise<CommandAnswer | undefined>;

/** A command as the box received it, with its MQTT 5 request properties (docs/protocol.md section 6). */
export interface ReceivedCommand {
  command: CommandMessage;
  responseTopic?: string;
  correlationData?: Buffer;
}

/** Takes an offered update (`spec.update`); `document` is the desired-state payload that carried it. */
export type UpdateHandler = (offer: UpdateOffer, box: SimulatedBox, document: Buffer) => Promise<void>;

export interface BirthOverrides extends Partial<Omit<BoxMessageBody<'birth'>, 'hardware'>> {
  hardware?: Partial<HardwareInfo>;
}

export interface SimulatedBoxOptions {
  /** The broker, e.g. the `mqtt.url` provisioning returned. */
  url: string;
  deviceId: string;
  /** The box's secret. */
  password: string;
  /** The first sequence number (1 by default); the Last Will takes it. */
  firstSeq?: number;
  /** Connect with the retained `offline` Last Will on `up/status` (true by default). */
  lastWill?: boolean;
  /** The device agent version the box runs: its birth's `agentVersion` and its update reports' `runningVersion`. */
  agentVersion?: string;
  /** Answers commands; by default `ping` succeeds and anything else is rejected, as the device agent does. */
  onCommand?: CommandHandler;
  /** Called with each desired-state document once it is recorded, e.g. to report state. */
  onDesired?: (document: DesiredStateMessage, box: SimulatedBox) => void | Promise<void>;
  /** How the box takes an offered update: a scripted behaviour (`healthy` by default) or a handler of its own. */
  updates?: UpdateBehaviour | UpdateHandler;
  /** Called with each storage confirmation (`down/stored`) of what the box sent with spool positions. */
  onStored?: (message: StoredMessage, box: SimulatedBox) => void;
  /** Where a failure in handling a message goes; without it the failure is left as an unhandled rejection. */
  onError?: (error: Error) => void;
  /** MQTT options that extend or override the defaults (connect timeout, keep-alive, another will, ...). */
  mqtt?: IClientOptions;
}

const CHANNEL_TOPICS: { [K in BoxChannel]: (deviceId: string) => string } = {
  status: topics.status,
  birth: topics.birth,
  telemetry: topics.telemetry,
  state: topics.state,
  events: topics.events,
  runs: topics.runs,
  'run-events': topics.runEvents,
  usage: topics.usage,
  update: topics.update,
};

/**
 * A box on the wire, as docs/protocol.md describes it, without the device agent behind it: MQTT 5 with
 * client id = username = device id, the retained `offline` Last Will, the envelope with a per-box `seq`,
 * desired state taken from `down/desired`, commands answered with the request's response topic and
 * correlation data, offered updates reported on `up/update`. `client` stays open for tests that misbehave
 * on purpose.
 */
export class SimulatedBox {
  readonly deviceId: string;
  /** Every desired-state document received, in order (an empty retained payload is no document). */
  readonly desired: DesiredStateMessage[] = [];
  /** Every command received, in order. */
  readonly commands: ReceivedCommand[] = [];
  /** The rollout ids (offer ids) of the updates this box has acted on; each is taken once. */
  readonly handledOffers = new Set<string>();
  /** Failures in handling messages, also passed to `onError`. */
  readonly errors: Error[] = [];
  readonly agentVersion: string;
  /** How the box takes the next offer; may change between offers. */
  updateBehaviour: UpdateBehaviour | UpdateHandler;
  onCommand: CommandHandler;
  private nextSeqValue: number;

  private constructor(
    readonly client: MqttClient,
    private readonly options: SimulatedBoxOptions,
    firstFreeSeq: number,
  ) {
    this.deviceId = options.deviceId;
    this.agentVersion = options.agentVersion ?? '1.0.0';
    this.updateBehaviour = options.updates ?? 'healthy';
    this.onCommand = options.onCommand ?? answerLikeAnAgent;
    this.nextSeqValue = firstFreeSeq;
    client.on('message', (topic, payload, packet) => this.receive(topic, payload, packet));
  }

  /** Opens the MQTT connection only: nothing published, nothing subscribed (see `goOnline`). */
  static async connect(options: SimulatedBoxOptions): Promise<SimulatedBox> {
    const firstSeq = options.firstSeq ?? 1;
    const lastWill = options.lastWill ?? true;
    const will = {
      topic: topics.status(options.deviceId),
      payload: encodeMessage({ v: SCHEMA_VERSION, seq: firstSeq, ts: Date.now(), state: 'offline' }),
      qos: 1 as const,
      retain: true,
    };
    const client = await mqtt.connectAsync(options.url, {
      protocolVersion: 5,
      clientId: options.deviceId,
      username: options.deviceId,
      password: options.password,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...(lastWill ? { will } : {}),
      ...options.mqtt,
    });
    return new SimulatedBox(client, options, lastWill ? firstSeq + 1 : firstSeq);
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** The sequence number of the next message; it is never handed out again. */
  nextSeq(): number {
    return this.nextSeqValue++;
  }

  /**
   * What a box does after it connects: subscribe to its own `down/#` (which brings the retained desired
   * state), publish `online` retained, and a birth message when `birth` is given. Subscribing first means
   * nothing the cloud sends in reply to `online` can be missed.
   */
  async goOnline({ birth }: { birth?: BirthOverrides } = {}): Promise<void> {
    await this.subscribe();
    await this.status('online');
    if (birth) await this.birth(birth);
  }

  /** Subscribes with QoS 1 (to its own `down/#` by default); a refused filter throws (see `subscribeReasonCodes`). */
  async subscribe(filters: string[] = [topics.deviceDownFilter(this.deviceId)]): Promise<number[]> {
    const granted = await this.client.subscribeAsync(filters, { qos: 1 });
    return granted.map((grant) => grant.qos);
  }

  /** `up/status`, retained. */
  async status(
    state: 'online' | 'offline',
    options: EnvelopeOptions & { reason?: string } = {},
  ): Promise<void> {
    const { reason, ...envelope } = options;
    await this.publish('status', { state, ...(reason ? { reason } : {}) }, { ...envelope, retain: true });
  }

  /** `up/birth`: a Linux x64 box with 4 cores and 8 GB unless overridden. */
  async birth(overrides: BirthOverrides = {}, options: EnvelopeOptions = {}): Promise<void> {
    const { hardware, ...rest } = overrides;
    await this.publish(
      'birth',
      {
        agentVersion: this.agentVersion,
        bootId: `boot-${this.deviceId}`,
        capabilities: [],
        metrics: [],
        telemetryIntervalSec: 60,
        ...rest,
        hardware: {
          hostname: this.deviceId,
          platform: 'linux',
          arch: 'x64',
          cpuCores: 4,
          memTotalBytes: 8_000_000_000,
          ...hardware,
        },
      },
      options,
    );
  }

  async telemetry(samples: TelemetrySample[], options: EnvelopeOptions = {}): Promise<void> {
    await this.publish('telemetry', { samples }, options);
  }

  /** `up/state` for the latest desired document received (`null` before the first). */
  async reportState(
    current: BoxMessageBody<'state'>['current'],
    options: EnvelopeOptions = {},
  ): Promise<void> {
    await this.publish('state', { desiredVersion: this.latestDesired()?.version ?? null, current }, options);
  }

  /** One report on `up/update`; `runningVersion` is the box's agent version and `ts` now unless given. */
  async reportUpdate(
    report: Omit<UpdateStatusReport, 'runningVersion' | 'ts'> &
      Partial<Pick<UpdateStatusReport, 'runningVersion' | 'ts'>>,
  ): Promise<void> {
    await this.publish('update', {
      reports: [{ runningVersion: this.agentVersion, ts: Date.now(), ...report }],
    });
  }

  /**
   * Goes through an offered update as the device agent reports it, one message per step, without
   * downloading or restarting anything; `onReported` runs once each report is acknowledged.
   */
  async takeUpdate(
    offer: UpdateOffer,
    behaviour: UpdateBehaviour,
    onReported?: (status: UpdateStatus) => void,
  ): Promise<void> {
    for (const report of updateReports(offer, behaviour, this.agentVersion)) {
      await this.reportUpdate(report);
      onReported?.(report.status);
    }
  }

  /** Publishes one message in the envelope, QoS 1, on one of the box's own `up/` topics. */
  async publish<K extends BoxChannel>(
    channel: K,
    body: BoxMessageBody<K>,
    options: PublishOptions = {},
  ): Promise<void> {
    const { retain = false, ...envelope } = options;
    await this.client.publishAsync(CHANNEL_TOPICS[channel](this.deviceId), this.encode(body, envelope), {
      qos: 1,
      retain,
    });
  }

  /** The message in the envelope (`v`, `seq`, `ts`), as bytes, for tests that publish it themselves. */
  encode(body: object, { seq, ts = Date.now() }: EnvelopeOptions = {}): Buffer {
    if (seq === undefined) seq = this.nextSeq();
    else this.nextSeqValue = Math.max(this.nextSeqValue, seq + 1);
    return encodeMessage({ v: SCHEMA_VERSION, seq, ts, ...body });
  }

  /** Anything on any topic, QoS 1 unless told otherwise: for tests of what the cloud refuses. */
  async publishRaw(topic: string, payload: string | Buffer, options: { qos?: 0 | 1; retain?: boolean } = {}) {
    return this.client.publishAsync(topic, payload, {
      qos: options.qos ?? 1,
      retain: options.retain ?? false,
    });
  }

  latestDesired(): DesiredStateMessage | undefined {
    return this.desired.at(-1);
  }

  /** The update offered in the latest desired document, if any. */
  currentOffer(): UpdateOffer | undefined {
    return this.latestDesired()?.spec.update;
  }

  /** True when any desired document received carried an update offer. */
  offered(): boolean {
    return this.desired.some((document) => document.spec.update !== undefined);
  }

  /** Sends DISCONNECT: the broker discards the Last Will (MQTT-3.14.4-3). Ending twice does nothing. */
  async close(): Promise<void> {
    if (this.client.disconnected || this.client.disconnecting) return;
    await this.client.endAsync(!this.client.connected);
  }

  /** Loses the connection without DISCONNECT: the broker publishes the Last Will. Ending twice does nothing. */
  async drop(): Promise<void> {
    if (this.client.disconnected || this.client.disconnecting) return;
    this.client.stream.destroy();
    await this.client.endAsync(true);
  }

  private receive(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const parsed = parseTopic(topic);
    if (parsed?.direction !== 'down' || parsed.deviceId !== this.deviceId) return;
    void this.take(parsed.channel, payload, packet).catch((error: unknown) => this.fail(error));
  }

  private async take(channel: DownChannel, payload: Buffer, packet: IPublishPacket): Promise<void> {
    switch (channel) {
      case 'desired':
        return this.takeDesired(payload);
      case 'commands':
        return this.answer(payload, packet.properties ?? {});
      case 'stored':
        this.options.onStored?.(StoredMessageSchema.parse(JSON.parse(payload.toString('utf8'))), this);
        return;
    }
  }

  private async takeDesired(payload: Buffer): Promise<void> {
    // An empty retained payload deletes the retained message: no document (MQTT-3.3.1-10).
    if (payload.length === 0) return;
    const document = DesiredStateMessageSchema.parse(JSON.parse(payload.toString('utf8')));
    this.desired.push(document);
    const offer = document.spec.update;
    const fresh = offer !== undefined && !this.handledOffers.has(offer.rolloutId);
    if (fresh) this.handledOffers.add(offer.rolloutId);
    await this.options.onDesired?.(document, this);
    if (!fresh) return;
    const behaviour = this.updateBehaviour;
    if (typeof behaviour === 'function') await behaviour(offer, this, payload);
    else await this.takeUpdate(offer, behaviour);
  }

  private async answer(
    payload: Buffer,
    properties: NonNullable<IPublishPacket['properties']>,
  ): Promise<void> {
    const command = CommandMessageSchema.parse(JSON.parse(payload.toString('utf8')));
    const { responseTopic, correlationData } = properties;
    this.commands.push({
      command,
      ...(responseTopic ? { responseTopic } : {}),
      ...(correlationData ? { correlationData } : {}),
    });
    const answer = await this.onCommand(command, this);
    if (!answer) return;
    // The requester names the topic; the correlation data goes back unchanged (MQTT 5 section 4.10).
    await this.client.publishAsync(
      responseTopic ?? topics.result(this.deviceId, command.id),
      this.encode({ commandId: command.id, ...answer }),
      { qos: 1, properties: correlationData ? { correlationData } : {} },
    );
  }

  private fail(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    this.errors.push(failure);
    if (!this.options.onError) throw failure;
    this.options.onError(failure);
  }
}

/** What the device agent does with the commands every box knows: `ping` succeeds, anything else is rejected. */
export const answerLikeAnAgent: CommandHandler = (command) =>
  command.name === COMMAND_NAMES.ping
    ? { status: 'succeeded', output: { pong: true, ts: Date.now() } }
    : { status: 'rejected', error: `unknown command: ${command.name}` };

/** `count` samples from `start`, a millisecond apart: `cpu.usage_pct` counts 0, 1, 2... and `mem.used_pct` is 50. */
export function syntheticSamples(count: number, start = Date.now()): TelemetrySample[] {
  return Array.from({ length: count }, (_, index) => ({
    ts: start + index,
    values: { 'cpu.usage_pct': index, 'mem.used_pct': 50 },
  }));
}

import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { Aedes } from 'aedes';
import {
  ProvisionRequestSchema,
  SCHEMA_VERSION,
  deviceDownPrefix,
  deviceUpPrefix,
  isUnder,
  parseTopic,
  topics,
} from '@agentbox/schemas';

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  json: Record<string, unknown>;
  properties: Record<string, unknown> | undefined;
  at: number;
}

/**
 * A small stand-in for the fleet service: a real Aedes MQTT 5 broker enforcing per-device topic
 * rules, and a real HTTP `POST /api/v1/provision`. Same hardware id -> same device id, rotated secret.
 */
export class FakeFleet {
  readonly claimToken = `claim-${randomBytes(12).toString('hex')}`;
  readonly received: ReceivedMessage[] = [];
  private readonly receivedListeners = new Set<(message: ReceivedMessage) => void>();
  readonly provisionCalls: { hardwareId: string; name?: string }[] = [];
  /** deviceId -> current password. */
  readonly secrets = new Map<string, string>();
  private readonly devices = new Map<string, string>(); // hardwareId -> deviceId
  private broker: Aedes | undefined;
  private mqttServer: NetServer | undefined;
  private sockets = new Set<Socket>();
  private http: HttpServer | undefined;
  mqttPort = 0;
  httpPort = 0;
  /**
   * Confirm what boxes send through their spool with `down/stored`, as the fleet service does once it is
   * committed (docs/protocol.md, "Acknowledged means stored"); off, boxes keep it in their spools.
   */
  confirmStorage = true;
  /** Persistence kept across broker restarts, so retained messages survive like on a real broker. */
  private persistence: unknown;

  get fleetUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  async start(): Promise<void> {
    await this.startBroker();
    this.http = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const send = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (req.method !== 'POST' || req.url !== '/api/v1/provision') {
          return send(404, { statusCode: 404, code: 'NOT_FOUND', message: 'no such route' });
        }
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return send(400, { statusCode: 400, code: 'BAD_REQUEST', message: 'bad JSON' });
        }
        const parsed = ProvisionRequestSchema.safeParse(body);
        if (!parsed.success)
          return send(400, { statusCode: 400, code: 'VALIDATION_FAILED', message: parsed.error.message });
        if (parsed.data.claimToken !== this.claimToken) {
          return send(401, {
            statusCode: 401,
            code: 'CLAIM_TOKEN_INVALID',
            message: 'claim token is unknown or expired',
          });
        }
        this.provisionCalls.push({ hardwareId: parsed.data.hardwareId, name: parsed.data.name });
        let deviceId = this.devices.get(parsed.data.hardwareId);
        if (!deviceId) {
          deviceId = `box-${randomBytes(6).toString('hex')}`;
          this.devices.set(parsed.data.hardwareId, deviceId);
        }
        const password = randomBytes(24).toString('base64url');
        this.secrets.set(deviceId, password);
        send(201, { deviceId, mqtt: { url: this.mqttUrl, username: deviceId, password } });
      });
    });
    await new Promise<void>((resolve) => this.http!.listen(0, '127.0.0.1', resolve));
    this.httpPort = (this.http.address() as AddressInfo).port;
  }

  async startBroker(): Promise<void> {
    const options: Record<string, unknown> = {
      authenticate: (
        client: { id: string },
        username: string | undefined,
        password: Buffer | undefined,
        done: (error: (Error & { returnCode: number }) | null, ok: boolean | null) => void,
      ) => {
        const expected = username === undefined ? undefined : this.secrets.get(username);
        if (
          username === 'observer' ||
          (expected !== undefined && client.id === username && password?.toString() === expected)
        ) {
          return done(null, true);
        }
        const error = Object.assign(new Error('bad username or password'), { returnCode: 4 });
        done(error, false);
      },
      authorizePublish: (
        client: { id: string } | null,
        packet: { topic: string },
        done: (error?: Error | null) => void,
      ) => {
        if (!client || client.id === 'observer') return done(null);
        done(isUnder(packet.topic, deviceUpPrefix(client.id)) ? null : new Error('not your topic'));
      },
      authorizeSubscribe: (
        client: { id: string },
        sub: { topic: string },
        done: (error: Error | null, sub?: unknown) => void,
      ) => {
        if (client.id === 'observer') return done(null, sub);
        done(null, isUnder(sub.topic, deviceDownPrefix(client.id)) ? sub : null);
      },
    };
    if (this.persistence) options.persistence = this.persistence;
    const broker = await Aedes.createBroker(options);
    this.persistence = (broker as unknown as { persistence: unknown }).persistence;
    broker.on('publish', (packet, client) => {
      if (!packet.topic.startsWith('agentbox/')) return;
      const payload = Buffer.from(packet.payload as Buffer);
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
      } catch {
        // not JSON: kept with an empty body
      }
      this.received.push({
        topic: packet.topic,
        payload,
        retain: packet.retain,
        json,
        properties: (packet as { properties?: Record<string, unknown> }).properties,
        at: Date.now(),
      });
      if (client) this.confirm(packet.topic, json);
      for (const listener of this.receivedListeners) listener(this.received.at(-1)!);
    });
    this.broker = broker;
    this.mqttServer = createNetServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      this.mqttServer!.once('error', reject);
      this.mqttServer!.listen(this.mqttPort, '127.0.0.1', () => resolve());
    });
    this.mqttPort = (this.mqttServer.address() as AddressInfo).port;
  }

  /** Stops the broker abruptly (sockets destroyed), keeping its port and retained messages for startBroker(). */
  async stopBroker(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.mqttServer?.close(() => resolve()) ?? resolve());
    await new Promise<void>((resolve) => this.broker?.close(() => resolve()) ?? resolve());
    this.mqttServer = undefined;
    this.broker = undefined;
  }

  /** Calls `listener` with every message a client publishes, as it arrives; returns its removal. */
  onReceived(listener: (message: ReceivedMessage) => void): () => void {
    this.receivedListeners.add(listener);
    return () => this.receivedListeners.delete(listener);
  }

  /** Publishes as the cloud would (retained desired state, commands). */
  publish(
    topic: string,
    payload: unknown,
    options: { retain?: boolean; properties?: Record<string, unknown> } = {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      this.broker!.publish(
        {
          cmd: 'publish',
          topic,
          payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
          qos: 1,
          retain: options.retain ?? false,
          dup: false,
          properties: options.properties,
        } as never,
        (error?: Error) => (error ? reject(error) : resolve()),
      );
    });
  }

  private confirm(topic: string, json: Record<string, unknown>): void {
    const parsed = parseTopic(topic);
    const spool = json.spool as { epoch?: unknown; first?: unknown; last?: unknown } | undefined;
    if (!this.confirmStorage || parsed?.direction !== 'up' || typeof spool?.epoch !== 'string') return;
    const stored = { v: SCHEMA_VERSION, epoch: spool.epoch, ranges: [[spool.first, spool.last]] };
    this.publish(topics.stored(parsed.deviceId), stored).catch(() => undefined);
  }

  messages(topicSuffix: string): ReceivedMessage[] {
    return this.received.filter((message) => message.topic.endsWith(topicSuffix));
  }

  async stop(): Promise<void> {
    await this.stopBroker();
    await new Promise<void>((resolve) => this.http?.close(() => resolve()) ?? resolve());
  }
}

/** Polls until `check` returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false,
  timeoutMs = 15_000,
  what = 'condition',
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

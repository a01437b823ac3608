import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Logger } from '@nestjs/common';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Gauge } from 'prom-client';
import { PACKET_OVERHEAD_BYTES, ReasonCode, SERVICE_USERNAME } from './broker.constants.js';
import type { BrokerRejections } from './broker-rejections.js';
import type { InboundMessage } from './inbound-message.js';
import type { MqttAuthorizer, MqttPrincipal } from './mqtt-authorizer.js';
import { indexRetained, type RetainedPersistence } from './retained-index.js';
import type { Settlement } from '../../common/settlement.js';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  /** False: the port is the default; when it is taken, listen on a free one instead. */
  portExplicit: boolean;
  /** Where to go when the default port is taken: the port chosen last time, else a free one. */
  fallbackPort?: number;
  maxPayloadBytes: number;
  /** CONNECT authentications in flight at once; beyond it boxes are refused as busy and come back later. */
  maxPendingConnects: number;
}

/** MQTT 5 CONNACK reason codes travel through aedes as MQTT 3.1.1 return codes (mapped back for v5 clients). */
const RETURN_CODE_BY_REASON: Record<number, 2 | 3 | 4 | 5> = { 0x85: 2, 0x88: 3, 0x86: 4, 0x87: 5 };

/**
 * CONNACK with reason code 0x89 (Server busy), no session present, no properties: MQTT 5.0 section 3.2.2.2
 * (Connect Reason Code) has the server answer "busy" with it and close the connection (MQTT-3.2.2-7). aedes
 * maps an authentication error only to the MQTT 3.1.1 return codes (0x03 becomes 0x88 for MQTT 5), so the
 * broker writes this one itself.
 */
const CONNACK_V5_SERVER_BUSY = Buffer.from([0x20, 0x03, 0x00, ReasonCode.SERVER_BUSY, 0x00]);

/**
 * The broker inside the fleet service: aedes on a TCP listener, with the per-box rules of MqttAuthorizer.
 * Sessions, retained messages (indexed by topic level, see RetainedIndex) and wills live in memory: a restart
 * of the service drops them, and boxes re-publish `up/status` on reconnect while the service re-publishes
 * `down/desired`.
 */
export class EmbeddedBroker {
  private readonly logger = new Logger(EmbeddedBroker.name);
  private readonly principals = new WeakMap<Client, MqttPrincipal>();
  private readonly connectedBoxes = new Set<string>();
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private listening = false;
  private maxPendingConnects = Number.POSITIVE_INFINITY;
  /** CONNECTs whose credentials are being checked right now. */
  private pendingConnects = 0;

  constructor(
    private readonly authorizer: MqttAuthorizer,
    private readonly rejections: BrokerRejections,
    private readonly connectedGauge: Gauge,
    /** Where a box's authorized publish goes; the box's PUBACK waits until it is settled. */
    private readonly deliver: (message: InboundMessage) => void,
  ) {}

  /** The port the listener is bound to (differs from the configured one with port 0 or a taken default). */
  port = 0;

  isListening(): boolean {
    return this.listening && this.aedes !== undefined && !this.aedes.closed;
  }

  async start(options: EmbeddedBrokerOptions): Promise<number> {
    const aedes = await Aedes.createBroker({
      maximumPacketSize: options.maxPayloadBytes + PACKET_OVERHEAD_BYTES,
      drainTimeout: 30_000,
      heartbeatInterval: 60_000,
    });
    this.aedes = aedes;
    this.maxPendingConnects = options.maxPendingConnects;
    // Before the listener opens, so no retained message is stored yet: the default memory store would test
    // every box's retained messages on each SUBSCRIBE, which the reconnect of a whole fleet cannot afford.
    indexRetained((aedes as unknown as { persistence: RetainedPersistence }).persistence);
    this.installHooks(aedes);
    const server = createServer(aedes.handle);
    this.server = server;
    server.on('close', () => {
      this.listening = false;
    });
    try {
      await this.listen(server, options.host, options.port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || options.portExplicit) throw error;
      // Enrolled boxes hold the URL they were told: the port of the previous fallback keeps them reachable.
      await this.listen(server, options.host, options.fallbackPort ?? 0).catch((fallbackError: unknown) => {
        if (options.fallbackPort === undefined) throw fallbackError;
        return this.listen(server, options.host, 0);
      });
      this.logger.warn(
        `MQTT port ${options.port} is in use; the embedded broker listens on port ${this.portOf(server)} instead. ` +
          'Boxes learn the URL at provisioning; set AGENTBOX_MQTT_PORT to pin a port.',
      );
    }
    this.port = this.portOf(server);
    this.listening = true;
    this.logger.log(`Embedded MQTT broker listening on ${options.host}:${this.port}`);
    return this.port;
  }

  /**
   * Publishes as the broker itself: the service's `down/` messages (desired state, commands, storage
   * confirmations) reach the boxes' sessions without a trip through a TCP connection to this same process,
   * which at fan-out to a whole fleet cost most of the time (docs/benchmarks.md, "Fan-out"). Resolves once
   * aedes has stored a retained message and handed the message to every matching subscription, in call
   * order, as a client's PUBLISH would be.
   */
  publish(
    topic: string,
    payload: Buffer,
    { qos, retain, properties }: { qos: 0 | 1; retain: boolean; properties?: object },
  ): Promise<void> {
    const aedes = this.aedes;
    if (!aedes || aedes.closed) return Promise.reject(new Error('the embedded broker is not running'));
    // MQTT 5 properties (a command's response topic and correlation data) travel with the packet.
    const packet = {
      cmd: 'publish' as const,
      topic,
      payload,
      qos,
      retain,
      dup: false,
      ...(properties ? { properties } : {}),
    };
    return new Promise<void>((resolve, reject) =>
      aedes.publish(packet, (error?: Error) => (error ? reject(error) : resolve())),
    );
  }

  /** Disconnects a box (after its credentials were removed). */
  disconnect(deviceId: string): void {
    const clients = (this.aedes as unknown as { clients?: Record<string, Client> } | undefined)?.clients;
    clients?.[deviceId]?.close();
  }

  async stop(): Promise<void> {
    const aedes = this.aedes;
    const server = this.server;
    this.listening = false;
    if (server?.listening) {
      const closed = once(server, 'close');
      server.close();
      if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await closed;
    } else if (aedes && !aedes.closed) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    }
    this.connectedBoxes.clear();
    this.connectedGauge.set(0);
  }

  private async listen(server: Server, host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        server.off('listening', onListening);
        reject(error);
      };
      const onListening = () => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, host);
    });
  }

  private portOf(server: Server): number {
    return (server.address() as AddressInfo).port;
  }

  /**
   * `stored` and `refused` release the PUBACK (a refused message is bad for good: the box drops it, see
   * docs/protocol.md section 9); `busy` closes the box's connection instead, so the message stays in its
   * spool and comes again after the box reconnects with its backoff.
   */
  private settle(client: Client | null, settlement: Settlement, done: (error: Error | null) => void): void {
    if (settlement === 'busy' && client && !client.closed) client.close();
    done(null);
  }

  /**
   * Every box of a fleet reconnects at once after a restart of the service: checks past the cap would only
   * queue behind the others (in the database pool) until the boxes' CONNACK timeouts expire, and the boxes
   * would then come back all together. Refusing at once, with no registry work, makes them back off instead.
   */
  private refuseBusy(
    client: Client,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    this.rejections.record(
      'server_busy',
      client.id,
      `CONNECT refused as busy: ${this.pendingConnects} authentications in flight (cap ${this.maxPendingConnects})`,
    );
    if (client.version === 5) {
      // Closed before `done`: aedes then drops the outcome instead of sending a CONNACK of its own.
      client.conn.write(CONNACK_V5_SERVER_BUSY, () => {
        client.close();
        done(null, false);
      });
      return;
    }
    // MQTT 3.1.1 section 3.2.2.3: return code 0x03, Server unavailable.
    const error = new Error('server busy') as AuthenticateError;
    error.returnCode = 3;
    done(error, false);
  }

  private installHooks(aedes: Aedes): void {
    aedes.authenticate = (client, username, password, done) => {
      // aedes calls this a turn of the event loop after the CONNECT arrived; a box that has given up (or was
      // taken over) meanwhile gets no answer anyway, so its check would only take a slot and a registry lookup.
      // aedes drops the outcome of a closed client's check.
      if (client.closed) {
        done(null, false);
        return;
      }
      // The service's own client is checked without the registry and must get in even while boxes storm.
      if (username !== SERVICE_USERNAME && this.pendingConnects >= this.maxPendingConnects) {
        this.refuseBusy(client, done);
        return;
      }
      this.pendingConnects += 1;
      this.authorizer
        .authorizeConnect({ clientId: client.id, username, password })
        .finally(() => {
          this.pendingConnects -= 1;
        })
        .then((decision) => {
          if (decision.ok) {
            this.principals.set(client, decision.principal);
            done(null, true);
            return;
          }
          this.rejections.record(
            decision.reason,
            client.id,
            `CONNECT refused with 0x${decision.reasonCode.toString(16)}`,
          );
          const error = new Error('connection refused') as AuthenticateError;
          error.returnCode = RETURN_CODE_BY_REASON[decision.reasonCode] as AuthenticateError['returnCode'];
          done(error, false);
        })
        .catch((error: unknown) => {
          done(error as AuthenticateError, false);
        });
    };

    aedes.authorizePublish = (client, packet, done) => {
      // A will whose client is already gone has no principal to check against; aedes checked it when the box connected.
      const principal = client ? this.principals.get(client) : undefined;
      if (principal === undefined) {
        done(client ? new Error('not authorized') : null);
        return;
      }
      const decision = this.authorizer.authorizePublish(principal, packet.topic, {
        retain: packet.retain,
        payloadBytes: Buffer.byteLength(packet.payload),
      });
      if (decision.ok && principal.kind === 'device') {
        // aedes writes the PUBACK once this callback runs (and before it publishes to subscribers), so the
        // box hears "delivered" only when ingest has committed the message (docs/protocol.md, "Acknowledged
        // means stored"). A will (the box already gone) goes the same way, with no PUBACK to wait for.
        let settled = false;
        this.deliver({
          topic: packet.topic,
          payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
          receivedAt: Date.now(),
          settle: (settlement) => {
            if (settled) return;
            settled = true;
            this.settle(client, settlement, done);
          },
        });
        return;
      }
      if (decision.ok) {
        done(null);
        return;
      }
      this.rejections.record(
        decision.reason,
        client?.id ?? '',
        `PUBLISH ${packet.topic.slice(0, 200)}: ${decision.detail}`,
      );
      // MQTT 5: a QoS 1/2 publish is answered with 0x87 (Not authorized) and the connection stays up.
      done(new Error('not authorized'));
    };

    aedes.authorizeSubscribe = (client, subscription, done) => {
      const principal = this.principals.get(client);
      if (principal === undefined) {
        done(null, null);
        return;
      }
      const decision = this.authorizer.authorizeSubscribe(principal, subscription.topic);
      if (decision.ok) {
        done(null, subscription);
        return;
      }
      this.rejections.record(
        decision.reason,
        client.id,
        `SUBSCRIBE ${subscription.topic.slice(0, 200)}: ${decision.detail}`,
      );
      // A negated subscription: 0x87 (Not authorized) in the SUBACK for MQTT 5 clients, 0x80 for 3.1.1.
      done(null, null);
    };

    aedes.on('clientReady', (client) => {
      const principal = this.principals.get(client);
      if (principal?.kind === 'device') {
        this.connectedBoxes.add(principal.deviceId);
        this.connectedGauge.set(this.connectedBoxes.size);
      }
    });
    aedes.on('clientDisconnect', (client) => {
      const principal = this.principals.get(client);
      // A session taken over by a new connection of the same box keeps it connected.
      const stillThere = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[
        client.id
      ];
      if (principal?.kind === 'device' && (stillThere === undefined || stillThere === client)) {
        this.connectedBoxes.delete(principal.deviceId);
        this.connectedGauge.set(this.connectedBoxes.size);
      }
    });
    const onError = (client: Client | null, error: Error & { maximumPacketSize?: number }) => {
      if (error.maximumPacketSize !== undefined) {
        this.rejections.record(
          'packet_too_large',
          client?.id ?? '',
          `${error.message} (cap ${error.maximumPacketSize} bytes)`,
        );
      }
    };
    aedes.on('clientError', onError);
    aedes.on('connectionError', onError);
  }
}

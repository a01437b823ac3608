import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { MqttClient } from 'mqtt';
import { UP_CHANNELS, deviceDownPrefix, deviceUpPrefix } from '@agentbox/schemas';

/** Mosquitto's dynamic-security plugin control topics (mosquitto 2.0 `plugins/dynamic-security/README.md`). */
export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;

interface DynsecCommand {
  command: string;
  [key: string]: unknown;
}
interface DynsecResponse {
  command: string;
  error?: string;
  correlationData?: string;
  data?: unknown;
}

export class DynsecError extends Error {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`dynamic security ${command} failed: ${reason}`);
  }
}

export function deviceRoleName(deviceId: string): string {
  return `agentbox-device-${deviceId}`;
}

/**
 * The role of one box: its ACLs open the channels of the box's `up/` (docs/protocol.md section 1, not the
 * whole subtree: a box cannot make the broker keep messages on topics nobody reads) for sending and its
 * `down/` for subscribing and receiving, and deny anything else it could receive.
 */
function createRoleCommand(deviceId: string): DynsecCommand {
  const down = `${deviceDownPrefix(deviceId)}/#`;
  const send = UP_CHANNELS.map((channel) => ({
    acltype: 'publishClientSend',
    topic: `${deviceUpPrefix(deviceId)}/${channel === 'results' ? 'results/+' : channel}`,
    priority: 10,
    allow: true,
  }));
  return {
    command: 'createRole',
    rolename: deviceRoleName(deviceId),
    acls: [
      ...send,
      { acltype: 'subscribePattern', topic: down, priority: 10, allow: true },
      { acltype: 'publishClientReceive', topic: down, priority: 10, allow: true },
      // Default deny for anything else the box could receive, whatever the broker-wide default says.
      { acltype: 'publishClientReceive', topic: '#', priority: 0, allow: false },
    ],
  };
}

/**
 * Manages each box on an external Mosquitto: a client bound to the box's client id and a role of its own
 * whose ACLs open the box's `up/` for sending and its `down/` for subscribing and receiving; everything
 * else falls to the default ACL access, which denies.
 */
export class DynsecAdmin {
  private readonly logger = new Logger(DynsecAdmin.name);
  private readonly pending = new Map<
    string,
    { resolve: (r: DynsecResponse) => void; reject: (e: Error) => void }
  >();
  private subscribed: Promise<void> | undefined;

  constructor(
    private readonly client: MqttClient,
    private readonly timeoutMs = 10_000,
  ) {
    client.on('message', (topic, payload) => {
      if (topic === DYNSEC_RESPONSE_TOPIC) this.onResponse(payload);
    });
    // A clean reconnect loses the response subscription.
    client.on('connect', (connack) => {
      if (!connack.sessionPresent) this.subscribed = undefined;
    });
  }

  async upsertDevice(deviceId: string, password: string): Promise<void> {
    await this.createRole(deviceId);
    if (await this.createClient(deviceId, password)) return;
    // Re-enrolment: rotate the secret and re-bind the client id and role.
    const [modified] = await this.send([
      {
        command: 'modifyClient',
        username: deviceId,
        password,
        clientid: deviceId,
        roles: [{ rolename: deviceRoleName(deviceId) }],
      },
    ]);
    if (modified?.error) throw new DynsecError('modifyClient', modified.error);
  }

  /**
   * Re-creates what the broker lost of a box and leaves alone what it has: a client that exists by now
   * (enrolled meanwhile) keeps the password it was given, and changing a client's password or roles
   * would disconnect the box. `password` is needed only when the client is lost.
   */
  async restoreDevice(
    deviceId: string,
    lost: { client: boolean; role: boolean },
    password: string | undefined,
  ): Promise<void> {
    if (lost.role) await this.createRole(deviceId);
    if (lost.client) {
      if (password === undefined)
        throw new DynsecError('createClient', 'no password to create the client with');
      await this.createClient(deviceId, password);
      return;
    }
    if (lost.role) {
      // Deleting a role takes it off every client that had it.
      const [added] = await this.send([
        { command: 'addClientRole', username: deviceId, rolename: deviceRoleName(deviceId) },
      ]);
      if (added?.error) throw new DynsecError('addClientRole', added.error);
    }
  }

  /** Creates the box's role; one that exists already is kept as it is. */
  private async createRole(deviceId: string): Promise<void> {
    const [role] = await this.send([createRoleCommand(deviceId)]);
    if (role?.error && !/already exists/i.test(role.error)) throw new DynsecError('createRole', role.error);
  }

  /** Creates the box's client bound to its id and role; false when the client exists already (left as it is). */
  private async createClient(deviceId: string, password: string): Promise<boolean> {
    const rolename = deviceRoleName(deviceId);
    const [created] = await this.send([
      { command: 'createClient', username: deviceId, password, clientid: deviceId, roles: [{ rolename }] },
    ]);
    if (!created?.error) return true;
    if (/already exists/i.test(created.error)) return false;
    throw new DynsecError('createClient', created.error);
  }

  /** Deleting a dynsec client also disconnects it. */
  async removeDevice(deviceId: string): Promise<void> {
    const [client, role] = await this.send([
      { command: 'deleteClient', username: deviceId },
      { command: 'deleteRole', rolename: deviceRoleName(deviceId) },
    ]);
    for (const response of [client, role]) {
      if (response?.error && !/not found/i.test(response.error))
        throw new DynsecError(response.command, response.error);
    }
  }

  /** Usernames of every dynsec client on the broker. */
  listClients(pageSize = 1_000): Promise<string[]> {
    return this.listAll('listClients', 'clients', pageSize);
  }

  /** Names of every dynsec role on the broker. */
  listRoles(pageSize = 1_000): Promise<string[]> {
    return this.listAll('listRoles', 'roles', pageSize);
  }

  /**
   * Pages through a non-verbose list command: `count`/`offset` select the page, the response's `data`
   * carries `totalCount` and the page's names (Mosquitto 2.0 dynamic-security README, "List Clients").
   */
  private async listAll(command: string, key: 'clients' | 'roles', pageSize: number): Promise<string[]> {
    const names: string[] = [];
    for (let offset = 0; ; offset += pageSize) {
      const [response] = await this.send([{ command, verbose: false, count: pageSize, offset }]);
      if (!response || response.error) throw new DynsecError(command, response?.error ?? 'no response');
      const data = (response.data ?? {}) as { totalCount?: unknown; [key: string]: unknown };
      const page = Array.isArray(data[key]) ? (data[key] as unknown[]) : [];
      // A non-verbose list holds the names themselves.
      for (const name of page) if (typeof name === 'string') names.push(name);
      const total = typeof data.totalCount === 'number' ? data.totalCount : undefined;
      if (page.length < pageSize || (total !== undefined && offset + page.length >= total)) return names;
    }
  }

  /** Sends commands in one control message and waits for all their responses (matched by correlation data). */
  async send(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    await this.ensureSubscribed();
    const tagged = commands.map((command) => ({ ...command, correlationData: randomUUID() }));
    const waits = tagged.map(
      (command) =>
        new Promise<DynsecResponse>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.pending.delete(command.correlationData);
            reject(new DynsecError(command.command, `no response within ${this.timeoutMs} ms`));
          }, this.timeoutMs);
          this.pending.set(command.correlationData, {
            resolve: (response) => {
              clearTimeout(timer);
              resolve(response);
            },
            reject: (error) => {
              clearTimeout(timer);
              reject(error);
            },
          });
        }),
    );
    try {
      await this.client.publishAsync(DYNSEC_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
    } catch (error) {
      for (const command of tagged) this.pending.get(command.correlationData)?.reject(error as Error);
    }
    return Promise.all(waits);
  }

  private ensureSubscribed(): Promise<void> {
    this.subscribed ??= this.client.subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 1 }).then((granted) => {
      // mqtt.js answers [] for a filter it already holds (it resubscribes those itself after a reconnect).
      const code = granted[0]?.qos ?? 0;
      if (code >= 0x80) {
        this.subscribed = undefined;
        throw new DynsecError(
          'subscribe',
          `the service account may not read ${DYNSEC_RESPONSE_TOPIC} (0x${code.toString(16)})`,
        );
      }
    });
    return this.subscribed;
  }

  private onResponse(payload: Buffer): void {
    let body: { responses?: DynsecResponse[] };
    try {
      body = JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] };
    } catch {
      this.logger.warn('Unreadable dynamic-security response');
      return;
    }
    for (const response of body.responses ?? []) {
      const id = response.correlationData;
      if (id === undefined) continue;
      const waiter = this.pending.get(id);
      if (waiter) {
        this.pending.delete(id);
        waiter.resolve(response);
      }
    }
  }
}

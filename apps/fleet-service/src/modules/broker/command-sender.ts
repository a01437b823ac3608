import { randomUUID } from 'node:crypto';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  SCHEMA_VERSION,
  encodeMessage,
  topics,
  type CommandMessage,
  type CommandName,
  type CommandResultMessage,
} from '@agentbox/schemas';
import { BrokerService } from './broker.service.js';

export class CommandTimeoutError extends Error {
  override readonly name = 'CommandTimeoutError';
}

interface Pending {
  deviceId: string;
  resolve(result: CommandResultMessage): void;
  timer: NodeJS.Timeout;
}

/**
 * Sends commands to boxes as MQTT 5 requests (docs/protocol.md section 6): Response Topic = the box's own
 * `up/results/{commandId}` (the only place a box may publish to), Correlation Data = the command id.
 * Ingest hands every result it decodes to `resolve`, which settles the waiting request.
 */
@Injectable()
export class CommandSender implements OnApplicationShutdown {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly broker: BrokerService) {}

  /** Publishes the command and waits for its result; rejects with CommandTimeoutError after `timeoutMs`. */
  async send(
    deviceId: string,
    name: CommandName,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<CommandResultMessage> {
    const commandId = `cmd-${randomUUID()}`;
    const issuedAt = Date.now();
    const command: CommandMessage = {
      v: SCHEMA_VERSION,
      id: commandId,
      name,
      args,
      issuedAt,
      // The box may still run it a little after the requester gave up waiting, never much later.
      expiresAt: issuedAt + timeoutMs,
    };
    const result = new Promise<CommandResultMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(commandId);
        reject(
          new CommandTimeoutError(`${deviceId} did not answer ${name} (${commandId}) within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.pending.set(commandId, { deviceId, resolve, timer });
    });
    const resultTopic = topics.result(deviceId, commandId);
    // The embedded broker's service client already receives every up/ topic itself.
    const direct = this.broker.mode === 'external';
    try {
      if (direct) await this.broker.subscribeDirect(resultTopic);
      await this.broker.publish(topics.command(deviceId, commandId), encodeMessage(command), {
        qos: 1,
        properties: {
          responseTopic: resultTopic,
          correlationData: Buffer.from(commandId, 'utf8'),
        },
      });
    } catch (error) {
      const entry = this.pending.get(commandId);
      if (entry) clearTimeout(entry.timer);
      this.pending.delete(commandId);
      void result.catch(() => undefined);
      if (direct) await this.broker.unsubscribeDirect(resultTopic);
      throw error;
    }
    try {
      return await result;
    } finally {
      if (direct) await this.broker.unsubscribeDirect(resultTopic);
    }
  }

  /** Called by ingest for every `up/results/{commandId}`; a result nobody waits for is ignored. */
  resolve(deviceId: string, result: CommandResultMessage): boolean {
    const entry = this.pending.get(result.commandId);
    // Only the box the command went to can answer it.
    if (!entry || entry.deviceId !== deviceId) return false;
    clearTimeout(entry.timer);
    this.pending.delete(result.commandId);
    entry.resolve(result);
    return true;
  }

  get waiting(): number {
    return this.pending.size;
  }

  onApplicationShutdown(): void {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
  }
}

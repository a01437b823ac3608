import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { IPublishPacket } from 'mqtt';
import {
  COMMAND_NAMES,
  CommandMessageSchema,
  SCHEMA_VERSION,
  decodePayload,
  isValidDeviceId,
  topics,
  type CommandMessage,
  type CommandResultMessage,
} from '@agentbox/schemas';
import { RateLimitedLog } from '@agentbox/logging';
import { DesiredStateService } from '../desired-state/desired-state.service.js';
import { IdentityService } from '../identity/identity.service.js';
import { LinkService } from '../link/link.service.js';
import { SequenceService } from '../sequence/sequence.service.js';

export type CommandOutcome = Pick<CommandResultMessage, 'status' | 'output' | 'error'>;

export type BuiltIn = (command: CommandMessage) => Promise<CommandOutcome> | CommandOutcome;

/** Results of recent commands, so a QoS 1 redelivery gets the same answer instead of running twice. */
const RECENT_RESULTS = 200;

/** Pure part of command handling: expiry first, then the built-in by name; unknown names are rejected. */
export async function runCommand(
  command: CommandMessage,
  builtIns: ReadonlyMap<string, BuiltIn>,
  now = Date.now(),
): Promise<CommandOutcome> {
  if (command.expiresAt <= now) {
    return { status: 'expired', error: `expired at ${new Date(command.expiresAt).toISOString()}` };
  }
  const builtIn = builtIns.get(command.name);
  if (!builtIn) return { status: 'rejected', error: `unknown command: ${command.name}` };
  try {
    return await builtIn(command);
  } catch (error) {
    return { status: 'failed', error: (error as Error).message.slice(0, 2_000) };
  }
}

/**
 * `down/commands/{commandId}`: MQTT 5 request/response. The result goes to the response topic
 * with the correlation data (MQTT-4.10) when the request carries them, and to `up/results/{commandId}`.
 */
@Injectable()
export class CommandsService implements OnModuleInit {
  private readonly logger = new Logger(CommandsService.name);
  private readonly rateLimited = new RateLimitedLog(30_000);
  private readonly recent = new Map<string, CommandOutcome>();
  private readonly commands: Map<string, BuiltIn>;
  /** Malformed commands seen since start. */
  rejected = 0;

  constructor(
    private readonly identity: IdentityService,
    private readonly link: LinkService,
    private readonly desired: DesiredStateService,
    private readonly seq: SequenceService,
  ) {
    this.commands = new Map<string, BuiltIn>([
      [COMMAND_NAMES.ping, () => ({ status: 'succeeded', output: { pong: true, ts: Date.now() } })],
      [
        COMMAND_NAMES.reportState,
        async () => {
          const report = await this.desired.report();
          return {
            status: 'succeeded',
            output: { desiredVersion: report?.desiredVersion ?? null, current: this.desired.currentState() },
          };
        },
      ],
    ]);
  }

  get builtIns(): ReadonlyMap<string, BuiltIn> {
    return this.commands;
  }

  /** Adds a command another module answers (e.g. `agent.run`); names are unique. */
  register(name: string, builtIn: BuiltIn): void {
    if (this.commands.has(name)) throw new Error(`command ${name} is registered twice`);
    this.commands.set(name, builtIn);
  }

  onModuleInit(): void {
    this.link.handle('commands', ({ topic, payload, properties }) =>
      this.receive(topic.channel === 'commands' ? topic.commandId : '', payload, properties),
    );
  }

  async receive(
    topicCommandId: string,
    payload: Buffer,
    properties: IPublishPacket['properties'],
  ): Promise<void> {
    const decoded = decodePayload(CommandMessageSchema, payload);
    if (!decoded.ok) {
      this.rejected += 1;
      if (this.rateLimited.take('invalid') !== null) {
        this.logger.warn(
          { commandId: topicCommandId, reason: decoded.reason, detail: decoded.detail },
          'invalid command',
        );
      }
      if (isValidDeviceId(topicCommandId)) {
        await this.reply(
          topicCommandId,
          { status: 'rejected', error: `invalid command (${decoded.reason}): ${decoded.detail}` },
          properties,
        );
      }
      return;
    }
    const command = decoded.value;
    if (command.id !== topicCommandId) {
      await this.reply(
        topicCommandId,
        { status: 'rejected', error: 'command id differs from the topic' },
        properties,
      );
      return;
    }
    let outcome = this.recent.get(command.id);
    if (!outcome) {
      outcome = await runCommand(command, this.builtIns);
      this.remember(command.id, outcome);
      this.logger.log(
        { commandId: command.id, name: command.name, status: outcome.status },
        'command handled',
      );
    }
    await this.reply(command.id, outcome, properties);
  }

  private remember(commandId: string, outcome: CommandOutcome): void {
    this.recent.set(commandId, outcome);
    if (this.recent.size > RECENT_RESULTS) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  private async reply(
    commandId: string,
    outcome: CommandOutcome,
    properties: IPublishPacket['properties'],
  ): Promise<void> {
    const deviceId = this.identity.deviceId;
    const result: CommandResultMessage = {
      v: SCHEMA_VERSION,
      seq: this.seq.next(),
      ts: Date.now(),
      commandId,
      ...outcome,
    };
    const resultTopic = topics.result(deviceId, commandId);
    // A box may publish only under its own up/, so a requester normally sets the response topic to the
    // result topic; any other one is tried as well and the broker's authorisation decides (docs/protocol.md 6).
    const responseTopic = properties?.responseTopic;
    // MQTT-4.10: the response goes to the Response Topic, echoing the Correlation Data unchanged.
    const correlation = properties?.correlationData ? { correlationData: properties.correlationData } : {};
    const sends = [this.link.publish(resultTopic, result, { properties: correlation })];
    // When the response topic is the result topic the result is published once.
    if (responseTopic && responseTopic !== resultTopic) {
      sends.push(this.link.publish(responseTopic, result, { properties: correlation }));
    }
    const results = await Promise.allSettled(sends);
    for (const settled of results) {
      if (settled.status === 'rejected')
        this.logger.warn({ err: settled.reason as unknown, commandId }, 'command result not delivered');
    }
  }
}

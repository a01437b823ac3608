import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import {
  type AgentRunCommandArgs,
  type AgentTaskResponse,
  COMMAND_NAMES,
  RecordIdSchema,
} from '@agentbox/schemas';
import { AppConfig } from '../../config/app-config.js';
import { CommandSender, CommandTimeoutError } from '../broker/command-sender.js';
import { DevicesService } from '../devices/devices.service.js';
import { RunsStore } from '../runs/runs.store.js';
import { AgentException } from './agents.exception.js';
import { AgentsService } from './agents.service.js';

const RunOutputSchema = z.looseObject({ runId: RecordIdSchema });

/** Tasks sent from the console: the `agent.run` command, answered by the box with the new run's id. */
@Injectable()
export class AgentTasksService {
  constructor(
    private readonly agents: AgentsService,
    private readonly devices: DevicesService,
    private readonly commands: CommandSender,
    private readonly config: AppConfig,
    private readonly runs: RunsStore,
  ) {}

  /** With `conversationId`, the input is a message of that conversation (the box adds its history). */
  async send(
    agentId: string,
    deviceId: string,
    input: string,
    conversationId?: string,
  ): Promise<AgentTaskResponse> {
    const agent = await this.agents.get(agentId);
    const device = await this.devices.get(deviceId);
    if (!device.online) {
      throw new AgentException('DEVICE_OFFLINE', `Box ${deviceId} is offline`);
    }
    const args: AgentRunCommandArgs = { agentId, input, ...(conversationId ? { conversationId } : {}) };
    let result;
    try {
      result = await this.commands.send(deviceId, COMMAND_NAMES.agentRun, args, this.config.taskTimeoutMs);
    } catch (error) {
      if (error instanceof CommandTimeoutError) {
        throw new AgentException('TASK_TIMEOUT', `Box ${deviceId} did not answer in time`);
      }
      throw error;
    }
    if (result.status !== 'succeeded') {
      throw new AgentException(
        'TASK_REJECTED',
        `Box ${deviceId} refused the task (${result.status})${result.error ? `: ${result.error}` : ''}`,
      );
    }
    const output = RunOutputSchema.safeParse(result.output);
    if (!output.success) {
      throw new AgentException('TASK_REJECTED', `Box ${deviceId} accepted the task but named no run id`);
    }
    await this.runs.recordAccepted(
      {
        id: output.data.runId,
        agentId,
        agentVersion: agent.version,
        trigger: { type: 'message', detail: result.commandId },
        ...(conversationId ? { conversationId } : {}),
        status: 'queued',
        input: input.slice(0, 10_000),
        createdAt: Date.now(),
        steps: 0,
        usage: { inputTokens: 0, outputTokens: 0 },
      },
      deviceId,
    );
    return { runId: output.data.runId, commandId: result.commandId };
  }
}

import { AgentRunCommandArgsSchema, COMMAND_NAMES, type CommandMessage } from '@agentbox/schemas';
import { invalidArgs, type CommandOutcome } from './command-args.js';
import type { InstalledAgent } from '../agents.contracts.js';
import type { FireRun } from './agent-schedules.js';

export const AGENT_RUN_COMMAND = COMMAND_NAMES.agentRun;

/**
 * The `agent.run` command: a task sent from the console. Answers `{runId, queued}` once the run is
 * accepted (not when it ends: the run itself is reported on `up/runs`), or `rejected` with the reason.
 */
export async function runAgentCommand(
  command: CommandMessage,
  findAgent: (agentId: string) => InstalledAgent | undefined,
  fire: FireRun,
): Promise<CommandOutcome> {
  const args = AgentRunCommandArgsSchema.safeParse(command.args);
  if (!args.success) return invalidArgs('agent.run', args.error);
  const { agentId, input, conversationId } = args.data;
  const agent = findAgent(agentId);
  if (!agent) return { status: 'rejected', error: `agent ${agentId} is not installed on this box` };
  if (!agent.definition.triggers.some((trigger) => trigger.type === 'message'))
    return {
      status: 'rejected',
      error: `agent ${agentId} does not take tasks from the console (no message trigger)`,
    };
  const outcome = await fire(agentId, { type: 'message', detail: command.id }, input, conversationId);
  if (!outcome.accepted) return { status: 'rejected', error: outcome.reason.slice(0, 2_000) };
  return { status: 'succeeded', output: { runId: outcome.runId, queued: outcome.queued } };
}

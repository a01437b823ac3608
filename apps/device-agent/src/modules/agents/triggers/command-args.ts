import type { CommandResultMessage } from '@agentbox/schemas';
import type { ZodError } from 'zod';

/** What a command handler answers (commands.service.ts adds the rest of the result). */
export type CommandOutcome = Pick<CommandResultMessage, 'status' | 'output' | 'error'>;

/** A command whose arguments do not parse is rejected, naming the first field at fault. */
export function invalidArgs(command: string, error: ZodError): CommandOutcome {
  const issue = error.issues[0];
  return {
    status: 'rejected',
    error: `invalid ${command} arguments: ${issue ? `${issue.path.join('.') || 'args'}: ${issue.message}` : 'invalid'}`,
  };
}

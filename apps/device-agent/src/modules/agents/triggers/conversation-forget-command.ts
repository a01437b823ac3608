import { COMMAND_NAMES, ConversationForgetCommandArgsSchema, type CommandMessage } from '@agentbox/schemas';
import { invalidArgs, type CommandOutcome } from './command-args.js';

export const CONVERSATION_FORGET_COMMAND = COMMAND_NAMES.conversationForget;

/**
 * The `conversation.forget` command: a conversation deleted in the cloud leaves the box too, its turns
 * and summary with it (docs/protocol.md section 11). Answers `{ forgotten }`: false when the box held
 * nothing of it, which is no error.
 */
export function forgetConversationCommand(
  command: CommandMessage,
  forget: ((conversationId: string) => boolean) | undefined,
): CommandOutcome {
  const args = ConversationForgetCommandArgsSchema.safeParse(command.args);
  if (!args.success) return invalidArgs('conversation.forget', args.error);
  if (!forget) return { status: 'failed', error: 'the agent runtime is not running' };
  return { status: 'succeeded', output: { forgotten: forget(args.data.conversationId) } };
}

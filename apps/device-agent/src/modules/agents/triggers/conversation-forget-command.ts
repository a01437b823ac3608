import {
  COMMAND_NAMES,
  ConversationForgetCommandArgsSchema,
  type CommandMessage,
  type CommandResultMessage,
} from '@agentbox/schemas';

export const CONVERSATION_FORGET_COMMAND = COMMAND_NAMES.conversationForget;

type Outcome = Pick<CommandResultMessage, 'status' | 'output' | 'error'>;

/**
 * The `conversation.forget` command: a conversation deleted in the cloud leaves the box too, its turns
 * and summary with it (docs/protocol.md section 11). Answers `{ forgotten }`: false when the box held
 * nothing of it, which is no error.
 */
export function forgetConversationCommand(
  command: CommandMessage,
  forget: ((conversationId: string) => boolean) | undefined,
): Outcome {
  const args = ConversationForgetCommandArgsSchema.safeParse(command.args);
  if (!args.success) {
    const issue = args.error.issues[0];
    return {
      status: 'rejected',
      error: `invalid conversation.forget arguments: ${issue ? `${issue.path.join('.') || 'args'}: ${issue.message}` : 'invalid'}`,
    };
  }
  if (!forget) return { status: 'failed', error: 'the agent runtime is not running' };
  return { status: 'succeeded', output: { forgotten: forget(args.data.conversationId) } };
}

import type { ConversationMessageRow, ConversationRow } from './conversation.entity.js';

/**
 * A conversation as a Markdown document: a heading, who and where, then each message under the name
 * of who said it. Messages are Markdown themselves and go in unchanged.
 */
export function conversationMarkdown(
  conversation: ConversationRow,
  messages: readonly ConversationMessageRow[],
  exportedAt: Date,
): string {
  const lines = [
    `# ${conversation.title || `Conversation with ${conversation.agentId}`}`,
    '',
    `- Agent: \`${conversation.agentId}\``,
    `- Box: \`${conversation.deviceId}\``,
    `- Started: ${conversation.createdAt.toISOString()}`,
    `- Exported: ${exportedAt.toISOString()}`,
    '',
  ];
  for (const message of messages) {
    const who = message.role === 'user' ? 'User' : `Agent (${conversation.agentId})`;
    lines.push('---', '', `**${who}** · ${new Date(message.createdAt).toISOString()}`, '');
    if (message.error !== null) lines.push(`> The run did not answer: ${message.error}`, '');
    if (message.text) lines.push(message.text, '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

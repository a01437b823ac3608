import type { ModelCallRequest } from '../agents.contracts.js';

type PromptParts = Pick<ModelCallRequest, 'system' | 'messages' | 'tools'>;

/**
 * Reservations need a prompt size before every call, so they use a cheap bound instead of a tokenizer:
 * BPE vocabularies hold hundreds of thousands of ranks and cost the device agent ~50 MB resident once
 * loaded, which an idle box should not pay. One token per 3 bytes of UTF-8 over-counts English
 * (about 4 characters a token) and is close for CJK (3 bytes a character, about a token each); the
 * reservation is settled with the provider's real count right after the call.
 */
export function reservationPromptTokens(request: PromptParts): number {
  return promptTokens(request, boundTextTokens);
}

/** The same cheap upper bound for one text: one token per 3 bytes of UTF-8. */
export function boundTextTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 3);
}

/** A message's framing in a prompt, in tokens, as counted beside its content. */
export const MESSAGE_FRAMING_TOKENS = 4;

type Tokenizer = (text: string) => number;
let tokenizer: Promise<Tokenizer> | undefined;

/** The o200k tokenizer, loaded the first time a count must be estimated (a provider sent no usage). */
export function loadTokenizer(): Promise<Tokenizer> {
  tokenizer ??= import('gpt-tokenizer').then((module) => module.countTokens);
  return tokenizer;
}

/** A count of the prompt in tokens (o200k), with a few tokens of framing per message. */
export async function estimatePromptTokens(request: PromptParts): Promise<number> {
  return promptTokens(request, await loadTokenizer());
}

/** A count of text in tokens (o200k). */
export async function estimateTextTokens(text: string): Promise<number> {
  return (await loadTokenizer())(text);
}

function promptTokens(request: PromptParts, count: Tokenizer): number {
  let total = 3 + count(request.system);
  for (const message of request.messages) {
    total += MESSAGE_FRAMING_TOKENS + count(message.content);
    if (message.role === 'assistant') {
      for (const call of message.toolCalls ?? [])
        total += count(call.name + JSON.stringify(call.input ?? {}));
    }
  }
  if (request.tools.length > 0) total += count(JSON.stringify(request.tools));
  return total;
}

import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { ModelRef } from '@agentbox/schemas';
import {
  jsonSchema,
  stepCountIs,
  streamText,
  tool,
  type ModelMessage,
  type TextStreamPart,
  type ToolSet,
} from 'ai';
import type {
  ChatMessage,
  ModelCallRequest,
  ResolvedProvider,
  ToolCall,
  ToolSpec,
} from '../agents.contracts.js';
import { estimatePromptTokens, loadTokenizer } from './token-estimate.js';

/** Tool names as OpenAI-style APIs accept them (`^[a-zA-Z0-9_-]+$`): `http.fetch` travels as `http_fetch`. */
function wireToolName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** What one streamed answer brought, however it ended. */
export interface StreamedAnswer {
  /** The provider started an answer (tokens may have been spent). */
  responded: boolean;
  aborted: boolean;
  failure: unknown;
  finishReason: string | undefined;
  usage: { inputTokens: number | undefined; outputTokens: number | undefined } | undefined;
  text: string;
  /** Tool call arguments as streamed so far (what a broken stream had produced). */
  toolInputText: string;
  toolCalls: ToolCall[];
}

/** One request to the model, streamed; errors and aborts end up in the answer, never thrown. */
export async function streamAnswer(
  ref: ModelRef,
  provider: ResolvedProvider,
  request: ModelCallRequest,
  maxOutputTokens: number,
  signal: AbortSignal | undefined,
): Promise<StreamedAnswer> {
  const names = new Map(request.tools.map((spec) => [wireToolName(spec.name), spec.name]));
  const model = createOpenAICompatible({
    baseURL: provider.baseUrl,
    name: provider.id,
    includeUsage: true,
    ...(provider.apiKey ? { apiKey: provider.apiKey } : {}),
  }).chatModel(ref.model);
  const answer: StreamedAnswer = {
    responded: false,
    aborted: false,
    failure: undefined,
    finishReason: undefined,
    usage: undefined,
    text: '',
    toolInputText: '',
    toolCalls: [],
  };
  try {
    const result = streamText({
      model,
      system: request.system,
      messages: toModelMessages(request.messages),
      ...(request.tools.length > 0 ? { tools: toToolSet(request.tools) } : {}),
      maxOutputTokens,
      maxRetries: 0,
      stopWhen: stepCountIs(1),
      ...(signal ? { abortSignal: signal } : {}),
      // Errors arrive as stream parts below; the default handler would print them.
      onError: () => undefined,
    });
    for await (const part of result.fullStream) addPart(answer, part, names);
  } catch (error) {
    answer.failure ??= error;
  }
  if (signal?.aborted) answer.aborted = true;
  return answer;
}

/** Adds one part of the stream to the answer (tool names mapped back from their wire form). */
function addPart(
  answer: StreamedAnswer,
  part: TextStreamPart<ToolSet>,
  names: ReadonlyMap<string, string>,
): void {
  switch (part.type) {
    case 'start-step':
      answer.responded = true;
      break;
    case 'text-delta':
      answer.text += part.text;
      break;
    case 'tool-input-delta':
      answer.toolInputText += part.delta;
      break;
    case 'tool-call':
      answer.toolCalls.push({
        id: part.toolCallId,
        name: names.get(part.toolName) ?? part.toolName,
        input: part.input,
      });
      break;
    case 'finish-step':
      answer.usage = part.usage;
      answer.finishReason = part.finishReason;
      break;
    case 'error':
      answer.failure ??= part.error;
      break;
    case 'abort':
      answer.aborted = true;
      break;
    default:
      break;
  }
}

/** The tokens an answer used: as the provider reported them, else estimated from the text. */
export async function countTokens(
  request: ModelCallRequest,
  answer: StreamedAnswer,
  finished: boolean,
): Promise<{ inputTokens: number; outputTokens: number; estimated: boolean }> {
  const { usage } = answer;
  const reported = usage?.inputTokens !== undefined && usage.outputTokens !== undefined;
  if (reported)
    return { inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0, estimated: false };
  const count = await loadTokenizer();
  const inputTokens = await estimatePromptTokens(request);
  const outputTokens =
    count(answer.text) +
    (finished
      ? answer.toolCalls.reduce((sum, call) => sum + count(call.name + JSON.stringify(call.input ?? {})), 0)
      : count(answer.toolInputText));
  return { inputTokens, outputTokens, estimated: true };
}

function toToolSet(specs: readonly ToolSpec[]): ToolSet {
  // No execute functions: the SDK hands tool calls back, and the run worker decides what runs.
  return Object.fromEntries(
    specs.map((spec) => [
      wireToolName(spec.name),
      tool({ description: spec.description, inputSchema: jsonSchema(spec.inputSchema) }),
    ]),
  );
}

function toModelMessages(messages: readonly ChatMessage[]): ModelMessage[] {
  return messages.map((message): ModelMessage => {
    switch (message.role) {
      case 'user':
        return { role: 'user', content: message.content };
      case 'assistant':
        if (!message.toolCalls?.length) return { role: 'assistant', content: message.content };
        return {
          role: 'assistant',
          content: [
            ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
            ...message.toolCalls.map((call) => ({
              type: 'tool-call' as const,
              toolCallId: call.id,
              toolName: wireToolName(call.name),
              input: call.input,
            })),
          ],
        };
      case 'tool':
        return {
          role: 'tool',
          content: [
            {
              type: 'tool-result',
              toolCallId: message.toolCallId,
              toolName: wireToolName(message.toolName),
              output: { type: 'text', value: message.content },
            },
          ],
        };
    }
  });
}

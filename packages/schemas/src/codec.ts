import type { z } from 'zod';
import { DEFAULT_MAX_PAYLOAD_BYTES } from './limits.js';
import { upMessageSchemas, type UpMessageByChannel } from './messages.js';
import { parseTopic, type ParsedTopic } from './topics.js';
import { telemetryFastPath } from './telemetry-fast-path.js';

/** Why an incoming message was refused; stable values, used as metric labels. */
export const REJECTION_REASONS = [
  'unknown_topic',
  'payload_too_large',
  'malformed_json',
  'invalid_schema',
  'topic_mismatch',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export type DecodedUpMessage = {
  [K in keyof UpMessageByChannel]: {
    topic: Extract<ParsedTopic, { direction: 'up'; channel: K }>;
    channel: K;
    message: UpMessageByChannel[K];
  };
}[keyof UpMessageByChannel];

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: RejectionReason; detail: string };

/**
 * RFC 8259 section 8.1: JSON exchanged between systems is UTF-8. Invalid sequences are refused rather than
 * replaced with U+FFFD, so a corrupted payload never passes validation looking like valid text.
 * A byte order mark is kept (not stripped), so JSON.parse refuses it as before.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Parses JSON under a size cap and validates it against a schema; `fast`, when given, may accept the
 * parsed JSON without zod (it returns undefined for anything it is not sure of, and zod decides).
 */
export function decodePayload<S extends z.ZodType>(
  schema: S,
  payload: Uint8Array | string,
  maxBytes = DEFAULT_MAX_PAYLOAD_BYTES,
  fast?: (json: unknown) => z.infer<S> | undefined,
): DecodeResult<z.infer<S>> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > maxBytes) {
    return {
      ok: false,
      reason: 'payload_too_large',
      detail: `payload is ${size} bytes, the cap is ${maxBytes}`,
    };
  }
  let text: string;
  try {
    text = typeof payload === 'string' ? payload : utf8.decode(payload);
  } catch {
    return { ok: false, reason: 'malformed_json', detail: 'payload is not valid UTF-8' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'malformed_json', detail: (error as Error).message };
  }
  const quick = fast?.(json);
  if (quick !== undefined) return { ok: true, value: quick };
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'invalid_schema', detail: formatIssues(parsed.error) };
  return { ok: true, value: parsed.data };
}

/** Decodes a message a device published under its `up/` subtree: topic, size cap, JSON, schema. */
export function decodeUpMessage(
  topic: string,
  payload: Uint8Array | string,
  maxBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): DecodeResult<DecodedUpMessage> {
  const parsedTopic = parseTopic(topic);
  if (parsedTopic === null || parsedTopic.direction !== 'up') {
    return {
      ok: false,
      reason: 'unknown_topic',
      detail: `not an AgentBox device topic: ${topic.slice(0, 200)}`,
    };
  }
  const schema: z.ZodType = upMessageSchemas[parsedTopic.channel];
  const fast = parsedTopic.channel === 'telemetry' ? telemetryFastPath : undefined;
  const decoded = decodePayload(schema, payload, maxBytes, fast);
  if (!decoded.ok) return decoded;
  if (parsedTopic.channel === 'results') {
    const message = decoded.value as UpMessageByChannel['results'];
    if (message.commandId !== parsedTopic.commandId) {
      return { ok: false, reason: 'topic_mismatch', detail: 'commandId differs from the topic' };
    }
  }
  return {
    ok: true,
    value: { topic: parsedTopic, channel: parsedTopic.channel, message: decoded.value } as DecodedUpMessage,
  };
}

export function encodeMessage(message: unknown): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

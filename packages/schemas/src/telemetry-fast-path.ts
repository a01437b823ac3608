import type { z } from 'zod';
import { METRIC_NAME_PATTERN, TelemetryMessageSchema, type TelemetryMessage } from './messages.js';
import { SCHEMA_VERSION } from './limits.js';

/** The fields the fast path checks; a schema with any other field is left to zod. */
const MESSAGE_FIELDS = ['v', 'seq', 'ts', 'samples'] as const;
/** Optional fields it also checks: the spool position every current box sends (docs/protocol.md section 2). */
const OPTIONAL_FIELDS = ['spool'] as const;
const SAMPLE_FIELDS = ['ts', 'values'] as const;
const SPOOL_FIELDS = ['epoch', 'first', 'last', 'acked', 'dropped'] as const;
const MAX_EPOCH = 64;
const MAX_SAMPLES = 1_000;
const MAX_METRIC_NAME = 100;

/** Checks a JSON value; returns it when it certainly matches, undefined when zod must decide. */
export type FastPath = (json: unknown) => TelemetryMessage | undefined;

/** Every field of `fields` and nothing else but, possibly, some of `optional`. */
function hasOnly(object: object, fields: readonly string[], optional: readonly string[] = []): boolean {
  let count = 0;
  for (const key in object) {
    if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
    if (fields.includes(key)) count += 1;
    else if (!optional.includes(key)) return false;
  }
  return count === fields.length;
}

const isEpochMs = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function isValues(values: unknown): boolean {
  // JSON.parse only makes plain objects; anything else (a class instance, a null prototype) goes to zod.
  if (!isRecord(values) || Object.getPrototypeOf(values) !== Object.prototype) return false;
  for (const name in values) {
    if (!Object.prototype.hasOwnProperty.call(values, name)) return false;
    if (name.length > MAX_METRIC_NAME || !METRIC_NAME_PATTERN.test(name)) return false;
    const value = values[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  }
  return true;
}

function isSample(sample: unknown): boolean {
  return (
    isRecord(sample) && hasOnly(sample, SAMPLE_FIELDS) && isEpochMs(sample.ts) && isValues(sample.values)
  );
}

const isPositiveId = (value: unknown): value is number => isEpochMs(value) && value > 0;

function isSpool(spool: unknown): boolean {
  if (!isRecord(spool) || !hasOnly(spool, SPOOL_FIELDS)) return false;
  const { epoch, first, last, acked, dropped } = spool;
  return (
    typeof epoch === 'string' &&
    epoch.length >= 1 &&
    epoch.length <= MAX_EPOCH &&
    isPositiveId(first) &&
    isPositiveId(last) &&
    isEpochMs(acked) &&
    isEpochMs(dropped) &&
    first <= last &&
    acked < first
  );
}

function fieldsOf(schema: z.ZodObject): string[] {
  return Object.keys(schema.shape).sort();
}

/**
 * A hand-written check of `up/telemetry` for the ingest hot path (docs/protocol.md section 7): it accepts
 * only messages that `schema` accepts unchanged (no field to strip, nothing to default), and returns the
 * parsed JSON as is; everything else, including every refusal, goes to zod, which also words the error.
 * It covers the schema's fields as they are here: when the schema has other fields (an optional field
 * added to the base message), `compileTelemetryFastPath` returns undefined and zod checks every message.
 */
export function compileTelemetryFastPath(schema: z.ZodObject = TelemetryMessageSchema): FastPath | undefined {
  const shape = schema.shape as Record<string, z.ZodType>;
  const sampleSchema = (shape.samples as z.ZodArray<z.ZodObject> | undefined)?.element;
  const spoolSchema = (shape.spool as z.ZodOptional<z.ZodObject> | undefined)?.unwrap?.();
  if (
    fieldsOf(schema).join() !== [...MESSAGE_FIELDS, ...OPTIONAL_FIELDS].sort().join() ||
    sampleSchema?.shape === undefined ||
    fieldsOf(sampleSchema).join() !== [...SAMPLE_FIELDS].sort().join() ||
    spoolSchema?.shape === undefined ||
    fieldsOf(spoolSchema).join() !== [...SPOOL_FIELDS].sort().join()
  ) {
    return undefined;
  }
  return (json) => {
    if (!isRecord(json) || !hasOnly(json, MESSAGE_FIELDS, OPTIONAL_FIELDS)) return undefined;
    if (json.v !== SCHEMA_VERSION || !isEpochMs(json.seq) || !isEpochMs(json.ts)) return undefined;
    if (json.spool !== undefined && !isSpool(json.spool)) return undefined;
    const list = json.samples;
    if (!Array.isArray(list) || list.length < 1 || list.length > MAX_SAMPLES) return undefined;
    for (const sample of list) if (!isSample(sample)) return undefined;
    return json as TelemetryMessage;
  };
}

/** The fast path of the schema in this package, or undefined when it no longer fits the schema. */
export const telemetryFastPath = compileTelemetryFastPath();

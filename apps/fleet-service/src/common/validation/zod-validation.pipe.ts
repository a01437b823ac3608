import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { CommonException } from '../errors/domain-exception.js';

/** Formats zod issues as `path: message; ...` for the error body (never echoes the input). */
export function formatZodIssues(error: z.ZodError, max = 10): string {
  return error.issues
    .slice(0, max)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
}

/** `value` as `schema` parses it; otherwise 400 VALIDATION_FAILED, `Invalid <what>: <issues>`. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new CommonException('VALIDATION_FAILED', `Invalid ${what}: ${formatZodIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** Validates a request part against a schema from @agentbox/schemas; failures become 400 VALIDATION_FAILED. */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    return validate(this.schema, value, 'request');
  }
}

import { z } from 'zod';

/** Instants in HTTP bodies: ISO 8601 in UTC (`2026-12-06T10:00:00.000Z`). */
export const IsoTimestampSchema = z.iso.datetime();

/** Error body of every HTTP error: a stable machine-readable `code` beside the human message. */
export const ApiErrorSchema = z.object({
  statusCode: z.number().int(),
  code: z.string(),
  message: z.string(),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;

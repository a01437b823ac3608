import { ApiErrorSchema } from '@agentbox/schemas';

/** Code given to failures that never reached the fleet service (offline, DNS, CORS, aborted). */
export const NETWORK_ERROR_CODE = 'NETWORK_ERROR';

/** An API call that failed; carries the fleet service's `{statusCode, code, message}` error body. */
export class ApiRequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

/** Turns an error response into an ApiRequestError, also when the body is not the documented shape. */
export function toApiRequestError(
  body: unknown,
  response: Pick<Response, 'status' | 'statusText'>,
): ApiRequestError {
  const parsed = ApiErrorSchema.safeParse(body);
  if (parsed.success)
    return new ApiRequestError(parsed.data.statusCode, parsed.data.code, parsed.data.message);
  const text =
    typeof body === 'string' && body.trim() !== '' ? body.trim().slice(0, 300) : response.statusText;
  return new ApiRequestError(response.status, `HTTP_${response.status}`, text || `HTTP ${response.status}`);
}

/** The fleet service answered 404: the thing asked for does not exist (or no longer). */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiRequestError && error.statusCode === 404;
}

export type ApiResult<T> = { data?: T; error?: unknown; response: Response };

/** Awaits an openapi-fetch call and returns its data, or throws an ApiRequestError. */
export async function unwrap<T>(call: Promise<ApiResult<T>>): Promise<T> {
  let result: ApiResult<T>;
  try {
    result = await call;
  } catch (error) {
    throw new ApiRequestError(0, NETWORK_ERROR_CODE, error instanceof Error ? error.message : String(error));
  }
  if (!result.response.ok) throw toApiRequestError(result.error, result.response);
  return result.data as T;
}

export interface Translator {
  t: (key: string, named?: Record<string, unknown>) => string;
  te: (key: string) => boolean;
}

/**
 * The text to show for a failure: the translation of a known error code, otherwise the server's message
 * (the fleet service writes it for humans), otherwise a generic line.
 */
export function describeError(error: unknown, { t, te }: Translator): string {
  if (error instanceof ApiRequestError) {
    const key = `errors.codes.${error.code}`;
    if (te(key)) return t(key, { message: error.message });
    if (error.message) return error.message;
    return t('errors.unknown');
  }
  if (error instanceof Error && error.message) return error.message;
  return t('errors.unknown');
}

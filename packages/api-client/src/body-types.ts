import type { components } from './fleet-api.generated.js';

/**
 * Names for request and response bodies, derived from the generated `paths`, so that a change of the fleet
 * service's API shows up as a type error where a body is used:
 * `OkBody<paths['/api/v1/devices']['get']>`, `RequestBody<paths['/api/v1/agents']['post']>`.
 */
export type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never;

/** The JSON body of an operation's success answer (200, else 201, else 202). */
export type OkBody<Op> = Op extends { responses: infer Rs }
  ? 200 extends keyof Rs
    ? JsonOf<Rs[200]>
    : 201 extends keyof Rs
      ? JsonOf<Rs[201]>
      : 202 extends keyof Rs
        ? JsonOf<Rs[202]>
        : never
  : never;

/** The JSON body an operation takes. */
export type RequestBody<Op> = Op extends { requestBody?: infer B } ? JsonOf<NonNullable<B>> : never;

/** The body of every error answer: `{statusCode, code, message}`. */
export type ApiErrorBody = components['schemas']['ApiError'];

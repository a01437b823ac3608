import type { FastifyInstance } from 'fastify';
import { CommonException } from '../errors/domain-exception.js';

/** The message of every refusal of NUL (U+0000), in a body (json-body.ts) or a URL. */
export const NUL_REFUSED =
  'Text must not contain the NUL character (U+0000), which the database cannot store';

/** `%00` in any case: NUL in a path or query string once decoded. */
const ENCODED_NUL = /%00/i;

/**
 * Refuses a request whose path or query string holds NUL with 400 VALIDATION_FAILED before any route
 * sees it: a NUL that reaches a PostgreSQL query parameter fails there with 500 (a search, a filter).
 */
export function refuseNulInUrls(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    done(ENCODED_NUL.test(request.url) ? new CommonException('VALIDATION_FAILED', NUL_REFUSED) : undefined);
  });
}

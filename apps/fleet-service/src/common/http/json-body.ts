import type { FastifyBodyParser, FastifyInstance } from 'fastify';
import { CommonException } from '../errors/domain-exception.js';
import { NUL_REFUSED } from './nul-characters.js';

/**
 * Deepest nesting of objects and arrays a JSON request body may have. Every API body is a shallow
 * document (a desired-state spec or an agent definition is a few levels deep); deeper input only serves
 * to exhaust the stack of whatever walks it next (validation, serialisation), which would answer 500.
 */
export const MAX_JSON_BODY_DEPTH = 64;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/** What makes a JSON body unfit to go further, found before it is parsed. */
export type JsonBodyProblem = 'too-deep' | 'nul';

const LOWER_U = 0x75; // u
const ZERO = 0x30; // 0

/** Whether `text[at…]` is `u0000`, the escape of NUL (JSON text cannot hold a raw NUL). */
function isNulEscape(text: Uint8Array, at: number): boolean {
  return (
    text[at] === LOWER_U &&
    text[at + 1] === ZERO &&
    text[at + 2] === ZERO &&
    text[at + 3] === ZERO &&
    text[at + 4] === ZERO
  );
}

/**
 * Scans JSON text without parsing it and without recursion: `too-deep` when objects and arrays nest
 * deeper than `maxDepth` (brackets inside strings do not count), `nul` when a string holds NUL
 * (U+0000), which PostgreSQL cannot store in text or jsonb (it would answer 500 far down the line), or
 * null. Malformed text is left to the parser to refuse.
 */
export function jsonBodyProblem(text: Uint8Array, maxDepth: number): JsonBodyProblem | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i];
    if (inString) {
      if (byte === BACKSLASH) {
        if (isNulEscape(text, i + 1)) return 'nul';
        i++;
      } else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++depth > maxDepth) return 'too-deep';
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth--;
    }
  }
  return null;
}

/**
 * The JSON body parser of every route: Fastify's own (same handling of `__proto__` and `constructor`
 * keys), after refusing a body nested deeper than MAX_JSON_BODY_DEPTH with 400 BODY_TOO_DEEP and a
 * body with a NUL in a string with 400 VALIDATION_FAILED.
 */
export function depthCheckedJsonParser(fastify: FastifyInstance): FastifyBodyParser<Buffer> {
  const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig;
  const parse = fastify.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error');
  return (request, body, done) => {
    const problem = jsonBodyProblem(body, MAX_JSON_BODY_DEPTH);
    if (problem === 'too-deep') {
      done(
        new CommonException(
          'BODY_TOO_DEEP',
          `The JSON body nests objects and arrays deeper than ${MAX_JSON_BODY_DEPTH} levels`,
        ),
        undefined,
      );
      return;
    }
    if (problem === 'nul') {
      done(new CommonException('VALIDATION_FAILED', NUL_REFUSED), undefined);
      return;
    }
    // Kept for the routes that check a signature over the bytes as sent (hooks' invoke).
    (request as { rawBody?: Buffer }).rawBody = body;
    void parse(request, body.toString('utf8'), done);
  };
}

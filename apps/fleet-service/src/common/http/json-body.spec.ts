import { describe, expect, it } from 'vitest';
import { jsonBodyProblem, MAX_JSON_BODY_DEPTH } from './json-body.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
const nested = (depth: number, open = '[', close = ']'): string => open.repeat(depth) + close.repeat(depth);

/** Whether the body is refused as too deep (the depth half of jsonBodyProblem). */
const jsonDepthExceeds = (text: Uint8Array, max: number): boolean =>
  jsonBodyProblem(text, max) === 'too-deep';

describe('jsonBodyProblem: depth', () => {
  it('counts objects and arrays alike, up to and past the cap', () => {
    expect(jsonDepthExceeds(bytes(nested(MAX_JSON_BODY_DEPTH)), MAX_JSON_BODY_DEPTH)).toBe(false);
    expect(jsonDepthExceeds(bytes(nested(MAX_JSON_BODY_DEPTH + 1)), MAX_JSON_BODY_DEPTH)).toBe(true);
    const objects = '{"a":'.repeat(3) + '1' + '}'.repeat(3);
    expect(jsonDepthExceeds(bytes(objects), 3)).toBe(false);
    expect(jsonDepthExceeds(bytes(objects), 2)).toBe(true);
    expect(jsonDepthExceeds(bytes('{"a":[{"b":[]}]}'), 3)).toBe(true);
  });

  it('measures depth, not the number of containers side by side', () => {
    expect(jsonDepthExceeds(bytes(`[${'[],'.repeat(10_000)}[]]`), 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(bytes(JSON.stringify({ s: '[[[[{{{{' })), 1)).toBe(false);
    expect(jsonDepthExceeds(bytes(JSON.stringify({ s: 'say \\"[[[[" and \\\\' })), 1)).toBe(false);
    expect(jsonDepthExceeds(bytes(JSON.stringify({ s: '€[[[', t: [[1]] })), 2)).toBe(true);
  });

  it('walks 100,000 levels without recursion', () => {
    expect(jsonDepthExceeds(bytes(nested(100_000)), MAX_JSON_BODY_DEPTH)).toBe(true);
  });
});

describe('jsonBodyProblem: NUL', () => {
  it('finds NUL in any string, keys included, and nothing else', () => {
    expect(jsonBodyProblem(bytes(JSON.stringify({ note: 'lab\u0000' })), 8)).toBe('nul');
    expect(jsonBodyProblem(bytes(JSON.stringify({ ['k\u0000']: 1 })), 8)).toBe('nul');
    expect(jsonBodyProblem(bytes('{"a":[{"b":"x\\u0000y"}]}'), 8)).toBe('nul');
    expect(jsonBodyProblem(bytes(JSON.stringify({ note: 'a\\u0000 as text, \u0001' })), 8)).toBeNull();
    expect(jsonBodyProblem(bytes(JSON.stringify({ note: 'é € 👩‍💻' })), 8)).toBeNull();
  });
});

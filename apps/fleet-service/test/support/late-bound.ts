/**
 * A value that a beforeAll hook sets up, usable from the describe body on: each property read goes to
 * `current()` at that moment (so it throws before the hook ran). Properties of `own` are answered
 * directly, e.g. functions that may be destructured while the block is collected.
 */
export function lateBound<T extends object, Own extends keyof T = never>(
  current: () => Omit<T, Own>,
  own: Pick<T, Own> = {} as Pick<T, Own>,
): T {
  return new Proxy(own, {
    get(target, key) {
      if (key in target) return Reflect.get(target, key);
      const value: unknown = Reflect.get(current(), key);
      if (value === undefined && typeof key === 'string' && key !== 'then') {
        throw new Error(`${key} was not set up by the describe block's beforeAll`);
      }
      return value;
    },
  }) as T;
}

/** `value`, or an error naming what is not there yet (the hook that sets it up has not run). */
export function setUp<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new Error(`${what} is set up in beforeAll (not at all for a skipped driver)`);
  return value;
}

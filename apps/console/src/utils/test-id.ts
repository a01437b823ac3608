import type { InputHTMLAttributes } from 'vue';

/** Puts a data-testid on the native <input> inside a Naive UI input, where browser tests can type into it. */
export function testInput(id: string): InputHTMLAttributes {
  return { 'data-testid': id } as InputHTMLAttributes;
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as implementation from '../boot-state.mjs';
import type * as Declared from '../types/boot-state.mjs';
import { APP_DIR } from './support/box.js';

// Compile-time half: tsc (checkJs) fails when an implemented export no longer fits its declaration.
const typed: typeof Declared = implementation;

describe('types/boot-state.d.mts', () => {
  it('declares exactly the runtime exports of boot-state.mjs', () => {
    const sut = readFileSync(join(APP_DIR, 'types/boot-state.d.mts'), 'utf8');
    const declared = [...sut.matchAll(/^export declare (?:const|function|class) (\w+)/gm)].map((m) => m[1]);
    expect(declared.sort()).toEqual(Object.keys(typed).sort());
  });
});

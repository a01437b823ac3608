// Helpers that register vitest hooks: for test files only (the rest of the package also serves scripts and
// benchmarks, which run outside vitest).
export * from './temp-dir.js';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.spec.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Real processes and brokers on a 2-core machine: one file at a time.
    fileParallelism: false,
  },
});

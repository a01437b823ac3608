import swc from 'unplugin-swc';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * The vitest config of a NestJS app's tests: SWC compiles them because it keeps the decorator metadata Nest's
 * dependency injection needs; the specs in src/ and test/ run one file at a time (they start real servers and
 * brokers), with time for the slow ones.
 */
export function nestVitestConfig(): ViteUserConfig {
  return defineConfig({
    plugins: [swc.vite({ module: { type: 'es6' } })],
    test: {
      include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      fileParallelism: false,
    },
  });
}

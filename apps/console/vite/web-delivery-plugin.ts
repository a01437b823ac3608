import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'vite';
import { formatRouteSizes, routeSizes, type Manifest } from './route-budget';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Text files that are worth a compressed twin; index.html is compressed by the service when it sends it. */
const COMPRESSIBLE = /\.(?:js|css|svg|json)$/;
/** Below this, the encoding saves less than a packet (the fleet service's own threshold for JSON). */
const MIN_BYTES = 1024;

/**
 * Writes a `.br` (quality 11) and a `.gz` (level 9) beside every emitted script, stylesheet and SVG, so the
 * fleet service sends them as they are (@fastify/static `preCompressed`) instead of compressing on each
 * request at a lower level; then prints what each route of the console downloads, gzipped, against its
 * budget (route-budget.ts; CI fails far over it with vite/check-route-budget.ts).
 */
export function webDelivery(): Plugin {
  let outDir = 'dist';
  return {
    name: 'agentbox-web-delivery',
    apply: 'build',
    configResolved(config) {
      outDir = join(config.root, config.build.outDir);
    },
    async writeBundle(_options, bundle) {
      const gzipped = new Map<string, number>();
      await Promise.all(
        Object.values(bundle).map(async (output) => {
          if (!COMPRESSIBLE.test(output.fileName) || output.fileName.startsWith('.vite/')) return;
          const source = output.type === 'chunk' ? output.code : output.source;
          const bytes = typeof source === 'string' ? Buffer.from(source) : Buffer.from(source);
          if (bytes.length < MIN_BYTES) {
            gzipped.set(output.fileName, (await gzipAsync(bytes, { level: 9 })).length);
            return;
          }
          const [br, gz] = await Promise.all([
            brotli(bytes, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
                [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
                [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
              },
            }),
            gzipAsync(bytes, { level: 9 }),
          ]);
          const file = join(outDir, output.fileName);
          await Promise.all([writeFile(`${file}.br`, br), writeFile(`${file}.gz`, gz)]);
          gzipped.set(output.fileName, gz.length);
        }),
      );
      const manifest = bundle['.vite/manifest.json'];
      if (manifest?.type !== 'asset') return;
      const sizes = routeSizes(
        JSON.parse(String(manifest.source)) as Manifest,
        (file) => gzipped.get(file) ?? 0,
      );
      this.info(`JavaScript per route:\n${formatRouteSizes(sizes)}`);
    },
  };
}

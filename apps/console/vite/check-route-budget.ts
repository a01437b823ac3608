// CI's budget check of the built console (.ci/run, after the build): the gzipped JavaScript each route
// loads, from Vite's manifest and the .gz files the build wrote. It fails only when a route is far over its
// budget (more than BLOWN times it), so that a few KB over while a page grows does not stop a merge, but
// a whole library pulled into the first route does. The browser benchmark (npm run bench:console -w
// @agentbox/e2e) measures the same on the wire.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { formatRouteSizes, routeSizes, type Manifest } from './route-budget';

const BLOWN = 1.5;
const dist = fileURLToPath(new URL('../dist', import.meta.url));
const manifestFile = join(dist, '.vite/manifest.json');
if (!existsSync(manifestFile)) {
  console.error(`${manifestFile} is missing: build the console first (npm run build -w @agentbox/console)`);
  process.exit(1);
}
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
const gzipSize = (file: string): number => {
  const path = join(dist, file);
  // Files under the build's compression threshold have no .gz twin.
  return existsSync(`${path}.gz`)
    ? statSync(`${path}.gz`).size
    : gzipSync(readFileSync(path), { level: 9 }).length;
};
const sizes = routeSizes(manifest, gzipSize);
console.log(`JavaScript per route, gzipped:\n${formatRouteSizes(sizes)}`);
const blown = sizes.filter(({ bytes, budget }) => bytes > budget * BLOWN);
for (const { route, bytes, budget } of blown) {
  console.error(
    `${route}: ${(bytes / 1024).toFixed(1)} KB, more than ${BLOWN} x its ${budget / 1024} KB budget`,
  );
}
process.exit(blown.length > 0 ? 1 : 0);

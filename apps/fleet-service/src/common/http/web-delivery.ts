import { relative, sep } from 'node:path';
import fastifyCompress from '@fastify/compress';
import fastifyStatic, { type SetHeadersResponse } from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** Vite fingerprints every file it writes under assets/: a changed file gets a new name. */
export const HASHED_ASSETS_CACHE = 'public, max-age=31536000, immutable';
/**
 * Every other file keeps its name across builds, so it is revalidated on every use (ETag, Last-Modified);
 * the SPA fallback (console.controller.ts) sends index.html with the same.
 */
export const REVALIDATE_CACHE = 'no-cache';

/**
 * What is worth compressing on the fly: JSON (the API and its errors), HTML, scripts, styles, SVG,
 * /metrics. Not `text/event-stream` (each event must reach the browser at once; the live stream is
 * written on the hijacked socket anyway), and not `application/octet-stream`, which the plugin's default
 * list takes (binary bodies; release bundles are gzip already and are served by byte ranges).
 */
const COMPRESSIBLE =
  /^text\/(?!event-stream)|^application\/(?:[\w.-]+\+)?json(?:;|$)|^application\/javascript|^image\/svg\+xml/u;

/**
 * Responses below this size go out as they are: the encoding would save less than a TCP packet and cost
 * a Vary variant in caches. Most JSON API answers (lists, details) are above it.
 */
const MIN_COMPRESSED_BYTES = 1024;

/**
 * Compresses responses with brotli or gzip when the client accepts it. Registered before any route
 * (Nest adds its routes at init) so that every route gets the hook. Request bodies are not
 * decompressed: clients send small JSON bodies, and accepting compressed ones would only open the door
 * to decompression bombs.
 */
export async function useCompression(app: NestFastifyApplication): Promise<void> {
  await app.register(fastifyCompress, {
    encodings: ['br', 'gzip'],
    threshold: MIN_COMPRESSED_BYTES,
    customTypes: (type: string) => COMPRESSIBLE.test(type),
    globalDecompression: false,
    // Quality 4 (the plugin's default for brotli) keeps API latency low; static assets are precompressed
    // at build time with the highest quality instead (apps/console/vite/web-delivery-plugin.ts).
  });
}

/**
 * Serves the built console: one route per file found at start-up (no wildcard, so the SPA fallback
 * controller answers every other path), the `.br`/`.gz` files written by the console's build picked by
 * Accept-Encoding instead of compressing on every request, hashed assets cached for a year, the rest
 * revalidated.
 */
export async function serveConsole(app: NestFastifyApplication, consoleDir: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: consoleDir,
    wildcard: false,
    index: false,
    serve: true,
    preCompressed: true,
    // The variants are answers to the plain file's URL, not URLs of their own; Vite's manifest is a
    // build artefact (it is dotted, so never served, but said here too).
    globIgnore: ['**/*.br', '**/*.gz', '.vite/**'],
    // Our own Cache-Control per file below; @fastify/send's would overwrite it.
    cacheControl: false,
    setHeaders: (response: SetHeadersResponse, path: string) => {
      const hashed = relative(consoleDir, path).split(sep)[0] === 'assets';
      response.setHeader('cache-control', hashed ? HASHED_ASSETS_CACHE : REVALIDATE_CACHE);
      // The same URL answers in br, gzip or plain: caches must keep them apart.
      response.setHeader('vary', 'accept-encoding');
    },
  });
}

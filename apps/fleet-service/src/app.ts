import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { PinoLoggerService } from '@agentbox/logging';
import type { AppConfig } from './config/app-config.js';
import { resolveConsoleDir } from './modules/console/console.service.js';
import { registerHttpMetrics } from './modules/metrics/http-metrics.js';
import { MetricsService } from './modules/metrics/metrics.service.js';
import { setupOpenApi } from './openapi.js';

/** Largest accepted HTTP request body; API bodies are small JSON documents. */
const HTTP_BODY_LIMIT_BYTES = 1024 * 1024;

export interface CreateAppOptions {
  /** Defaults to JSON logs on stdout at config.logLevel. */
  logger?: LoggerService;
  /** Close on SIGINT/SIGTERM (the process entry point wants this; tests do not). */
  shutdownHooks?: boolean;
  /** Start listening on config.httpHost:httpPort (default true). */
  listen?: boolean;
}

export interface RunningApp {
  app: NestFastifyApplication;
  /** Base URL of the listening server, e.g. http://127.0.0.1:41234 (empty when not listening). */
  url: string;
  close(): Promise<void>;
}

/** Builds, wires and (by default) starts the fleet service; main.ts and the end-to-end tests share it. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<RunningApp> {
  const logger = options.logger ?? new PinoLoggerService('fleet-service', config.logLevel);
  const adapter = new FastifyAdapter({
    bodyLimit: HTTP_BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy,
    // A stop must not wait on long-lived connections: live streams, or a box's bundle download stalled
    // by a client that stopped reading (it resumes with Range after the restart).
    forceCloseConnections: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger,
    abortOnError: false,
  });
  if (options.shutdownHooks) app.enableShutdownHooks(['SIGINT', 'SIGTERM']);

  const filter = app.get(AllExceptionsFilter);
  app.useGlobalFilters(filter);
  // Fastify's own request errors (malformed JSON, body too large) reach this filter too: Nest installs
  // Fastify's error handler and maps them to HttpExceptions with their status.
  const fastify = adapter.getInstance();
  registerHttpMetrics(fastify, app.get(MetricsService));

  const consoleDir = resolveConsoleDir(config);
  if (existsSync(consoleDir)) {
    // Explicit routes per file (no wildcard) so the SPA fallback controller answers everything else.
    await app.register(fastifyStatic, { root: consoleDir, wildcard: false, index: false, serve: true });
  }
  await setupOpenApi(app);

  if (options.listen === false) {
    await app.init();
    return { app, url: '', close: () => app.close() };
  }
  await app.listen(config.httpPort, config.httpHost);
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '127.0.0.1' : config.httpHost;
  return { app, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, close: () => app.close() };
}

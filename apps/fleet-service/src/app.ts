import { existsSync } from 'node:fs';
import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { depthCheckedJsonParser } from './common/http/json-body.js';
import { refuseNulInUrls } from './common/http/nul-characters.js';
import { useSecurityHeaders } from './common/http/security-headers.js';
import { serveConsole, useCompression } from './common/http/web-delivery.js';
import { PinoLoggerService } from '@agentbox/logging';
import type { AppConfig } from './config/app-config.js';
import { resolveConsoleDir } from './modules/console/console.service.js';
import { AuditService } from './modules/audit/audit.service.js';
import { registerRequestAudit } from './modules/audit/request-audit.js';
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
  /** Base URL of the listening server from this machine, e.g. http://127.0.0.1:41234 (empty when not listening). */
  url: string;
  /**
   * Where the server is bound, as `host:port` (`0.0.0.0:8080`: every interface, so also reachable from
   * other machines); empty when not listening.
   */
  listenAddress: string;
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
  useSecurityHeaders(app);

  const filter = app.get(AllExceptionsFilter);
  app.useGlobalFilters(filter);
  // Fastify's own request errors (malformed JSON, body too large) reach this filter too: Nest installs
  // Fastify's error handler and maps them to HttpExceptions with their status.
  const fastify = adapter.getInstance();
  // Every JSON body, whatever the route, is checked for depth and NUL before it is parsed; URLs for NUL.
  app.useBodyParser(
    'application/json',
    { bodyLimit: HTTP_BODY_LIMIT_BYTES },
    depthCheckedJsonParser(fastify),
  );
  refuseNulInUrls(fastify);
  registerHttpMetrics(fastify, app.get(MetricsService));
  registerRequestAudit(fastify, app.get(AuditService));
  await useCompression(app);

  const consoleDir = resolveConsoleDir(config);
  if (existsSync(consoleDir)) await serveConsole(app, consoleDir);
  await setupOpenApi(app);

  if (options.listen === false) {
    await app.init();
    return { app, url: '', listenAddress: '', close: () => app.close() };
  }
  await app.listen(config.httpPort, config.httpHost);
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const bound = typeof address === 'object' && address ? address.address : config.httpHost;
  const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '127.0.0.1' : config.httpHost;
  const bracketed = (name: string): string => (name.includes(':') ? `[${name}]` : name);
  return {
    app,
    url: `http://${bracketed(host)}:${port}`,
    listenAddress: `${bracketed(bound)}:${port}`,
    close: () => app.close(),
  };
}

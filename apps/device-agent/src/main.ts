#!/usr/bin/env node
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { BoxService } from './box.service.js';
import { BoxModule } from './box.module.js';
import { BoxException, EXIT_CODES } from './common/box-exception.js';
import { BoxConfig, ConfigError } from './config/box-config.js';
import { EXIT_RESTART, OtaService } from './modules/ota/ota.service.js';
import { PinoLoggerService } from '@agentbox/logging';

const EX_CONFIG = 78;
const EX_SOFTWARE = 70;
const STOP_TIMEOUT_MS = 15_000;

async function main(): Promise<void> {
  let config: BoxConfig;
  try {
    config = BoxConfig.fromEnv();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`agentbox-device-agent: ${error.message}\n`);
    process.exit(EX_CONFIG);
  }
  const logger = new PinoLoggerService('device-agent', config.logLevel);
  const app = await NestFactory.createApplicationContext(BoxModule.forConfig(config), {
    logger,
    abortOnError: false,
  });
  const box = app.get(BoxService);

  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string, exitCode = 0) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`, 'Main');
      process.exit(1);
    }
    logger.log(`${signal}: stopping`, 'Main');
    const timer = setTimeout(() => {
      logger.error('clean shutdown took too long; exiting', 'Main');
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    timer.unref();
    stopping = box
      .stop()
      .then(() => app.close())
      .then(() => process.exit(exitCode))
      .catch((error: unknown) => {
        logger.error(error, 'Main');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // An installed update (or a rolled back one): stop cleanly (the spool keeps the reports), then the
  // launcher starts the slot boot.json now names.
  app.get(OtaService).onRestart((why) => shutdown(why, EXIT_RESTART));

  try {
    await box.start();
  } catch (error) {
    if (error instanceof BoxException) {
      logger.fatal(error.message, { code: error.code, hint: error.hint }, 'Main');
      process.stderr.write(
        `agentbox-device-agent: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`,
      );
      await app.close().catch(() => undefined);
      process.exit(EXIT_CODES[error.code]);
    }
    throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`agentbox-device-agent: fatal: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(EX_SOFTWARE);
});

import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PinoLoggerService } from '@agentbox/logging';
import { BoxService } from './box.service.js';
import { BoxModule } from './box.module.js';
import { BoxException, EXIT_CODES } from './common/box-exception.js';
import { BoxConfig, ConfigError } from './config/box-config.js';
import { EXIT_RESTART, OtaService } from './modules/ota/ota.service.js';

const EX_CONFIG = 78;
const EX_SOFTWARE = 70;
const STOP_TIMEOUT_MS = 15_000;
/**
 * A second signal this soon after the first is the same Ctrl-C: a terminal sends SIGINT to the whole
 * foreground process group, so a box started through `npm run agent` gets it from the terminal and again
 * from the script forwarding it. Only a later one means "stop waiting".
 */
const REPEAT_GRACE_MS = 1_000;

/** Builds the box's application context (main.ts: BoxModule as it is). */
export type BoxContextFactory = (
  config: BoxConfig,
  logger: PinoLoggerService,
) => Promise<INestApplicationContext>;

export const createBoxContext: BoxContextFactory = (config, logger) =>
  NestFactory.createApplicationContext(BoxModule.forConfig(config), { logger, abortOnError: false });

/**
 * The device agent's process: reads the configuration, builds the box, starts it, and stops it cleanly
 * on SIGTERM/SIGINT or when an update asks for a restart. Exit codes: 78 configuration invalid, those
 * of BoxException (box-exception.ts), 75 restart for an update, 70 unexpected error, 0 after a signal.
 */
export function runBoxProcess(createContext: BoxContextFactory): void {
  run(createContext).catch((error: unknown) => {
    process.stderr.write(`agentbox-device-agent: fatal: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(EX_SOFTWARE);
  });
}

async function run(createContext: BoxContextFactory): Promise<void> {
  let config: BoxConfig;
  try {
    config = BoxConfig.fromEnv();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`agentbox-device-agent: ${error.message}\n`);
    process.exit(EX_CONFIG);
  }
  const logger = new PinoLoggerService('device-agent', config.logLevel);
  const app = await createContext(config, logger);
  const box = app.get(BoxService);

  let stopping: Promise<void> | undefined;
  let stoppingSince = 0;
  const shutdown = (signal: string, exitCode = 0) => {
    if (stopping) {
      if (Date.now() - stoppingSince < REPEAT_GRACE_MS) return;
      logger.warn(`${signal} again: exiting now`, 'Main');
      process.exit(1);
    }
    stoppingSince = Date.now();
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

import 'reflect-metadata';
import { AppConfig, ConfigError } from './config/app-config.js';
import { createApp } from './app.js';
import { PinoLoggerService } from '@agentbox/logging';

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = AppConfig.fromEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = new PinoLoggerService('fleet-service', config.logLevel);
  const { url } = await createApp(config, { logger, shutdownHooks: true });
  logger.pino.info(
    { url, database: config.database.type, dataDir: config.dataDir },
    `fleet service listening on ${url}`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `fleet service failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

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
  const { url, listenAddress } = await createApp(config, { logger, shutdownHooks: true });
  // Say where it is bound, not only the local URL: 0.0.0.0 is reachable from other machines too.
  const everywhere = config.httpHost === '0.0.0.0' || config.httpHost === '::';
  logger.pino.info(
    { url, listenAddress, database: config.database.type, dataDir: config.dataDir },
    `fleet service listening on ${listenAddress}` +
      (everywhere ? ' (every interface; AGENTBOX_HTTP_HOST=127.0.0.1 keeps it to this machine)' : '') +
      `; from this machine: ${url}`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `fleet service failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

export * from './pino-logger.service.js';
export * from './rate-limited-log.js';

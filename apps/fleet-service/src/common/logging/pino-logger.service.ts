import type { LoggerService, LogLevel } from '@nestjs/common';
import { pino, type Logger, type LevelWithSilent } from 'pino';

/** Nest's log levels mapped onto pino's (Nest `verbose` is pino `trace`). */
const NEST_TO_PINO: Record<LogLevel, LevelWithSilent> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/**
 * Structured JSON logs: Nest's LoggerService over pino, so framework and feature logs
 * (`new Logger(Context)`) come out as one JSON line each with `context`.
 */
export class PinoLoggerService implements LoggerService {
  readonly pino: Logger;

  constructor(level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream) {
    this.pino = destination
      ? pino({ level, base: { service: 'fleet-service' } }, destination)
      : pino({ level, base: { service: 'fleet-service' } });
  }

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('log', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('verbose', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams);
  }

  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    const pinoLevel = NEST_TO_PINO[level];
    if (pinoLevel === 'silent' || !this.pino.isLevelEnabled(pinoLevel)) return;
    // Nest appends the logger's context as the last string parameter.
    const rest = params.filter((value) => value !== undefined);
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    if (message instanceof Error) {
      this.pino[pinoLevel]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      // Structured call: logger.warn({ ...fields }, 'text').
      const text = typeof rest[0] === 'string' ? rest[0] : undefined;
      this.pino[pinoLevel]({ ...fields, ...(message as Record<string, unknown>) }, text);
    } else {
      // Nest's error(message, stack, context).
      if ((level === 'error' || level === 'fatal') && typeof rest[0] === 'string') fields.stack = rest[0];
      this.pino[pinoLevel](fields, String(message));
    }
  }
}

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

/** Field paths that may hold secrets; pino replaces their values before a line is written. */
export const REDACTED_PATHS = [
  'password',
  'claimToken',
  'secret',
  'apiKey',
  '*.password',
  '*.claimToken',
  '*.secret',
  '*.apiKey',
  'mqtt.password',
  '*.mqtt.password',
  'headers.authorization',
];

/**
 * Structured JSON logs on stdout (journald keeps them on a box): Nest's LoggerService over pino,
 * so framework and feature logs (`new Logger(Context)`) come out as one JSON line each with `context`.
 */
export class PinoLoggerService implements LoggerService {
  readonly pino: Logger;

  constructor(service: string, level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream) {
    const options = { level, base: { service, pid: process.pid }, redact: REDACTED_PATHS };
    this.pino = destination ? pino(options, destination) : pino(options);
  }

  // Nest's LoggerService, one method per level.
  readonly log = this.writerFor('log');
  readonly error = this.writerFor('error');
  readonly warn = this.writerFor('warn');
  readonly debug = this.writerFor('debug');
  readonly verbose = this.writerFor('verbose');
  readonly fatal = this.writerFor('fatal');

  private writerFor(level: LogLevel): (message: unknown, ...optionalParams: unknown[]) => void {
    return (message, ...optionalParams) => this.write(level, message, optionalParams);
  }

  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    const pinoLevel = NEST_TO_PINO[level];
    if (pinoLevel === 'silent' || !this.pino.isLevelEnabled(pinoLevel)) return;
    // Nest passes the context as the last string parameter; errors pass a stack before it.
    const rest = [...params];
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = {};
    if (context !== undefined) fields.context = context;
    // `logger.warn({ fields }, 'text')`: the object carries the fields and the string is the message.
    const structured = typeof message === 'object' && message !== null && !(message instanceof Error);
    const text = rest.find((value): value is string => typeof value === 'string');
    if (!structured && text !== undefined && (level === 'error' || level === 'fatal')) fields.stack = text;
    const extra = rest.find(
      (value) => typeof value === 'object' && value !== null && !(value instanceof Error),
    );
    if (extra) Object.assign(fields, extra);
    const error = rest.find((value): value is Error => value instanceof Error);
    if (error) fields.err = error;
    if (message instanceof Error) {
      this.pino[pinoLevel]({ ...fields, err: message }, message.message);
    } else if (structured) {
      this.pino[pinoLevel]({ ...fields, ...(message as Record<string, unknown>) }, text);
    } else {
      this.pino[pinoLevel](fields, typeof message === 'string' ? message : JSON.stringify(message));
    }
  }
}

import {
  Catch,
  HttpException,
  Injectable,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import type { ApiError } from '@agentbox/schemas';
import { RateLimitedLog } from '@agentbox/logging';
import { MetricsService } from '../../modules/metrics/metrics.service.js';
import type { AuthExceptionCode } from '../../modules/auth/auth.exception.js';
import { CommonException, type CommonExceptionCode, DomainException } from './domain-exception.js';

/** Fastify's own request errors (body parsing happens before any Nest code runs). */
const FASTIFY_CODES: Record<string, CommonExceptionCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_BODY',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_BODY',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

/**
 * Maps every error to `{statusCode, code, message}` (docs/protocol.md section 10), counts it in
 * agentbox_http_rejections_total{code} and logs it at most once per code per 10 s.
 */
@Injectable()
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrors');
  private readonly rateLimit = new RateLimitedLog(10_000);
  private readonly rejections: Counter<'code'>;

  constructor(metrics: MetricsService) {
    this.rejections = metrics.counter({
      name: 'agentbox_http_rejections_total',
      help: 'HTTP requests answered with an error, by error code',
      labelNames: ['code'],
    });
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    this.respond(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }

  /** Also used as Fastify's error handler, for errors raised before Nest sees the request (body parsing). */
  respond(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const body = this.toBody(exception);
    this.rejections.inc({ code: body.code });
    this.log(body, exception, request);
    if (reply.sent || reply.raw.headersSent) return;
    if (body.code === ('TOO_MANY_ATTEMPTS' satisfies AuthExceptionCode))
      void reply.header('retry-after', '60');
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  private toBody(exception: unknown): ApiError {
    if (exception instanceof DomainException) {
      const { httpStatus, code, message } = exception as DomainException;
      return { statusCode: httpStatus, code, message };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { statusCode: status, code: codeForStatus(status), message: messageOf(exception) };
    }
    const fastifyCode = (exception as { code?: unknown } | null)?.code;
    if (typeof fastifyCode === 'string' && fastifyCode in FASTIFY_CODES) {
      const code = FASTIFY_CODES[fastifyCode] ?? 'MALFORMED_BODY';
      return { statusCode: CommonException.statuses[code], code, message: (exception as Error).message };
    }
    const status = (exception as { statusCode?: unknown } | null)?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return { statusCode: status, code: codeForStatus(status), message: (exception as Error).message };
    }
    return { statusCode: 500, code: 'INTERNAL', message: 'Internal server error' };
  }

  private log(body: ApiError, exception: unknown, request: FastifyRequest): void {
    const suppressed = this.rateLimit.take(body.code);
    if (suppressed === null) return;
    const fields = {
      code: body.code,
      statusCode: body.statusCode,
      method: request.method,
      url: request.url.split('?')[0],
      suppressed,
    };
    if (body.statusCode >= 500) {
      this.logger.error(
        { ...fields, err: exception instanceof Error ? exception : String(exception) },
        'request failed',
      );
    } else {
      this.logger.warn({ ...fields, message: body.message }, 'request rejected');
    }
  }
}

function codeForStatus(status: number): CommonExceptionCode | AuthExceptionCode | `HTTP_${number}` {
  switch (status) {
    case 400:
      return 'MALFORMED_BODY';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    default:
      return status >= 500 ? 'INTERNAL' : `HTTP_${status}`;
  }
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

import {
  Catch,
  HttpException,
  Injectable,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import type { ApiError } from '@agentbox/schemas';
import { RateLimitedLog } from '@agentbox/logging';
import { MetricsService } from '../../modules/metrics/metrics.service.js';
import { AgentExceptionCode } from '../../modules/agents/agents.exception.js';
import { ApiKeyExceptionCode } from '../../modules/api-keys/api-keys.exception.js';
import { AuthExceptionCode } from '../../modules/auth/auth.exception.js';
import { DeviceExceptionCode } from '../../modules/devices/devices.exception.js';
import { ProviderExceptionCode } from '../../modules/providers/providers.exception.js';
import { ProvisioningExceptionCode } from '../../modules/provisioning/provisioning.exception.js';
import { OtaRootExceptionCode, ReleaseExceptionCode } from '../../modules/releases/releases.exception.js';
import { RolloutExceptionCode } from '../../modules/rollouts/rollouts.exception.js';
import { RunExceptionCode } from '../../modules/runs/runs.exception.js';
import { CommonExceptionCode, DomainException } from './domain-exception.js';

type ErrorCode =
  | CommonExceptionCode
  | AuthExceptionCode
  | ApiKeyExceptionCode
  | DeviceExceptionCode
  | ProvisioningExceptionCode
  | ProviderExceptionCode
  | AgentExceptionCode
  | RunExceptionCode
  | ReleaseExceptionCode
  | OtaRootExceptionCode
  | RolloutExceptionCode;

/** The one place domain codes become HTTP statuses. */
const HTTP_STATUS: Record<ErrorCode, number> = {
  [CommonExceptionCode.VALIDATION_FAILED]: HttpStatus.BAD_REQUEST,
  [CommonExceptionCode.MALFORMED_BODY]: HttpStatus.BAD_REQUEST,
  [CommonExceptionCode.PAYLOAD_TOO_LARGE]: HttpStatus.PAYLOAD_TOO_LARGE,
  [CommonExceptionCode.UNSUPPORTED_MEDIA_TYPE]: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  [CommonExceptionCode.NOT_FOUND]: HttpStatus.NOT_FOUND,
  [CommonExceptionCode.INTERNAL]: HttpStatus.INTERNAL_SERVER_ERROR,
  [AuthExceptionCode.INVALID_CREDENTIALS]: HttpStatus.UNAUTHORIZED,
  [AuthExceptionCode.UNAUTHENTICATED]: HttpStatus.UNAUTHORIZED,
  [AuthExceptionCode.FORBIDDEN]: HttpStatus.FORBIDDEN,
  [AuthExceptionCode.TOO_MANY_ATTEMPTS]: HttpStatus.TOO_MANY_REQUESTS,
  [AuthExceptionCode.USERNAME_TAKEN]: HttpStatus.CONFLICT,
  [ApiKeyExceptionCode.API_KEY_INVALID]: HttpStatus.UNAUTHORIZED,
  [ApiKeyExceptionCode.API_KEY_REVOKED]: HttpStatus.UNAUTHORIZED,
  [ApiKeyExceptionCode.API_KEY_EXPIRED]: HttpStatus.UNAUTHORIZED,
  [ApiKeyExceptionCode.API_KEY_NOT_FOUND]: HttpStatus.NOT_FOUND,
  [ApiKeyExceptionCode.API_KEY_ROLE_TOO_HIGH]: HttpStatus.FORBIDDEN,
  [ApiKeyExceptionCode.API_KEY_NOT_ALLOWED]: HttpStatus.FORBIDDEN,
  [ApiKeyExceptionCode.API_KEY_EXPIRY_PAST]: HttpStatus.BAD_REQUEST,
  [DeviceExceptionCode.NOT_FOUND]: HttpStatus.NOT_FOUND,
  [DeviceExceptionCode.INVALID_ID]: HttpStatus.BAD_REQUEST,
  [ProvisioningExceptionCode.CLAIM_TOKEN_INVALID]: HttpStatus.UNAUTHORIZED,
  [ProvisioningExceptionCode.CLAIM_TOKEN_EXPIRED]: HttpStatus.UNAUTHORIZED,
  [ProvisioningExceptionCode.CLAIM_TOKEN_EXHAUSTED]: HttpStatus.UNAUTHORIZED,
  [ProvisioningExceptionCode.CLAIM_TOKEN_REVOKED]: HttpStatus.UNAUTHORIZED,
  [ProvisioningExceptionCode.CLAIM_TOKEN_NOT_FOUND]: HttpStatus.NOT_FOUND,
  [ProviderExceptionCode.NOT_FOUND]: HttpStatus.NOT_FOUND,
  [ProviderExceptionCode.EXISTS]: HttpStatus.CONFLICT,
  [ProviderExceptionCode.IN_USE]: HttpStatus.CONFLICT,
  [AgentExceptionCode.NOT_FOUND]: HttpStatus.NOT_FOUND,
  [AgentExceptionCode.EXISTS]: HttpStatus.CONFLICT,
  [AgentExceptionCode.UNKNOWN_PROVIDER]: HttpStatus.BAD_REQUEST,
  [AgentExceptionCode.ASSIGNMENT_NOT_FOUND]: HttpStatus.NOT_FOUND,
  [AgentExceptionCode.DEVICE_OFFLINE]: HttpStatus.CONFLICT,
  [AgentExceptionCode.TASK_REJECTED]: HttpStatus.CONFLICT,
  [AgentExceptionCode.TASK_TIMEOUT]: HttpStatus.GATEWAY_TIMEOUT,
  [RunExceptionCode.NOT_FOUND]: HttpStatus.NOT_FOUND,
  [ReleaseExceptionCode.NOT_FOUND]: HttpStatus.NOT_FOUND,
  [ReleaseExceptionCode.EXISTS]: HttpStatus.CONFLICT,
  [ReleaseExceptionCode.IN_USE]: HttpStatus.CONFLICT,
  [ReleaseExceptionCode.NO_TRUSTED_ROOT]: HttpStatus.CONFLICT,
  [ReleaseExceptionCode.BAD_SIGNATURE]: HttpStatus.BAD_REQUEST,
  [ReleaseExceptionCode.UNKNOWN_KEY]: HttpStatus.BAD_REQUEST,
  [ReleaseExceptionCode.KEY_REVOKED]: HttpStatus.BAD_REQUEST,
  [ReleaseExceptionCode.METADATA_EXPIRED]: HttpStatus.BAD_REQUEST,
  [ReleaseExceptionCode.ARTIFACT_TOO_LARGE]: HttpStatus.PAYLOAD_TOO_LARGE,
  [ReleaseExceptionCode.ARTIFACT_SIZE_MISMATCH]: HttpStatus.BAD_REQUEST,
  [ReleaseExceptionCode.ARTIFACT_HASH_MISMATCH]: HttpStatus.BAD_REQUEST,
  [ReleaseExceptionCode.ARTIFACT_PRESENT]: HttpStatus.CONFLICT,
  [ReleaseExceptionCode.ARTIFACT_MISSING]: HttpStatus.CONFLICT,
  [ReleaseExceptionCode.DOWNLOAD_TOKEN_INVALID]: HttpStatus.UNAUTHORIZED,
  [ReleaseExceptionCode.DOWNLOAD_TOKEN_EXPIRED]: HttpStatus.UNAUTHORIZED,
  [ReleaseExceptionCode.DOWNLOAD_TOKEN_MISMATCH]: HttpStatus.FORBIDDEN,
  [OtaRootExceptionCode.REJECTED]: HttpStatus.BAD_REQUEST,
  [OtaRootExceptionCode.NOT_NEXT]: HttpStatus.CONFLICT,
  [RolloutExceptionCode.NOT_FOUND]: HttpStatus.NOT_FOUND,
  [RolloutExceptionCode.INVALID_TRANSITION]: HttpStatus.CONFLICT,
  [RolloutExceptionCode.RELEASE_NOT_READY]: HttpStatus.CONFLICT,
  [RolloutExceptionCode.NO_TARGETS]: HttpStatus.BAD_REQUEST,
  [RolloutExceptionCode.UNKNOWN_DEVICE]: HttpStatus.BAD_REQUEST,
  [RolloutExceptionCode.TARGETS_BUSY]: HttpStatus.CONFLICT,
};

/** Fastify's own request errors (body parsing happens before any Nest code runs). */
const FASTIFY_CODES: Record<string, CommonExceptionCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: CommonExceptionCode.MALFORMED_BODY,
  FST_ERR_CTP_EMPTY_JSON_BODY: CommonExceptionCode.MALFORMED_BODY,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: CommonExceptionCode.MALFORMED_BODY,
  FST_ERR_CTP_BODY_TOO_LARGE: CommonExceptionCode.PAYLOAD_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: CommonExceptionCode.UNSUPPORTED_MEDIA_TYPE,
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
    if (body.code === String(AuthExceptionCode.TOO_MANY_ATTEMPTS)) void reply.header('retry-after', '60');
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  private toBody(exception: unknown): ApiError {
    if (exception instanceof DomainException) {
      const code = exception.code as ErrorCode;
      return { statusCode: HTTP_STATUS[code] ?? 500, code, message: exception.message };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { statusCode: status, code: codeForStatus(status), message: messageOf(exception) };
    }
    const fastifyCode = (exception as { code?: unknown } | null)?.code;
    if (typeof fastifyCode === 'string' && fastifyCode in FASTIFY_CODES) {
      const code = FASTIFY_CODES[fastifyCode] ?? CommonExceptionCode.MALFORMED_BODY;
      return { statusCode: HTTP_STATUS[code], code, message: (exception as Error).message };
    }
    const status = (exception as { statusCode?: unknown } | null)?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return { statusCode: status, code: codeForStatus(status), message: (exception as Error).message };
    }
    return { statusCode: 500, code: CommonExceptionCode.INTERNAL, message: 'Internal server error' };
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

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return CommonExceptionCode.MALFORMED_BODY;
    case 401:
      return AuthExceptionCode.UNAUTHENTICATED;
    case 403:
      return AuthExceptionCode.FORBIDDEN;
    case 404:
      return CommonExceptionCode.NOT_FOUND;
    case 413:
      return CommonExceptionCode.PAYLOAD_TOO_LARGE;
    case 415:
      return CommonExceptionCode.UNSUPPORTED_MEDIA_TYPE;
    default:
      return status >= 500 ? CommonExceptionCode.INTERNAL : `HTTP_${status}`;
  }
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

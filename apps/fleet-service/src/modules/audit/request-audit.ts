import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditOutcome } from '@agentbox/schemas';
import { runWithRequestAudit, type RequestAuditContext } from './audit-request-context.js';
import { describeRoute } from './audit-route.js';
import { ANONYMOUS_ACTOR, type AuditResult, type AuditService } from './audit.service.js';

/** Requests that change nothing: audited only when refused for who made them. */
const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A request body longer than this (as JSON) is audited by its field names only. */
const MAX_BODY_CHARS = 4_096;
/** Response bodies read for a created resource's id or an error's code; larger ones are not parsed. */
const MAX_PARSED_PAYLOAD_CHARS = 65_536;

type AuditedRequest = RequestAuditContext['request'];

/**
 * The one place requests are audited, for every route, present or future, without the route declaring
 * anything: each mutating request (POST, PUT, PATCH, DELETE) that reached a route, and any request
 * refused with 403, leaves one entry when its response goes out, refusals of the auth guard and the
 * validation pipe included. Entries a service recorded during the request (release.created, auth.login)
 * stand for it and only get its outcome; otherwise a generic entry is written, named after the route.
 */
export function registerRequestAudit(fastify: FastifyInstance, audit: AuditService): void {
  const logger = new Logger('Audit');
  const contexts = new WeakMap<FastifyRequest, RequestAuditContext>();

  fastify.addHook('onRequest', (request, _reply, done) => {
    const context: RequestAuditContext = { request, recorded: [] };
    contexts.set(request, context);
    runWithRequestAudit(context, done);
  });

  fastify.addHook('onSend', async (request, reply, payload) => {
    const context = contexts.get(request);
    contexts.delete(request);
    if (!context || !audited(request, reply, context)) return payload;
    try {
      await settleRequest(audit, context, reply, payload);
    } catch (error) {
      // The change is made and answered already; losing its entry must at least be loud.
      logger.error(
        { err: error, method: request.method, url: request.url.split('?')[0] },
        'audit entry lost',
      );
    }
    return payload;
  });
}

function audited(request: FastifyRequest, reply: FastifyReply, context: RequestAuditContext): boolean {
  if (context.recorded.length > 0) return true;
  // Unmatched URLs are not audited, or a scanner could fill the log.
  if (request.routeOptions.url === undefined) return false;
  return !READ_ONLY_METHODS.has(request.method) || reply.statusCode === 403;
}

async function settleRequest(
  audit: AuditService,
  context: RequestAuditContext,
  reply: FastifyReply,
  payload: unknown,
): Promise<void> {
  const status = reply.statusCode;
  const response = status >= 400 || context.request.method === 'POST' ? parsePayload(payload) : undefined;
  const result: AuditResult = {
    outcome: outcomeOf(status),
    status,
    errorCode: status >= 400 ? stringField(response, 'code') : null,
  };
  if ((await audit.settle(context.recorded, result)) > 0) return;
  await audit.recordSettled({
    ...requestEntry(context.request, status, response),
    ...result,
  });
}

function requestEntry(request: AuditedRequest, status: number, response: unknown) {
  const route = describeRoute(request.method, request.routeOptions.url ?? request.url);
  const params = (request.params ?? {}) as Record<string, unknown>;
  const routeId =
    stringField(params, 'id') ?? Object.values(params).find((value) => typeof value === 'string');
  // A created resource is named by its id (users by their name, which the API uses for them).
  const createdId = status < 300 ? (stringField(response, 'id') ?? stringField(response, 'username')) : null;
  const user = request.user;
  const body = bodySummary(request.body);
  const targetId = (typeof routeId === 'string' ? routeId : null) ?? createdId ?? '';
  return {
    actor: user?.username ?? ANONYMOUS_ACTOR,
    actorType: user ? (user.apiKey ? ('api-key' as const) : ('user' as const)) : ('anonymous' as const),
    actorId: user ? (user.apiKey?.id ?? user.id) : null,
    action: route.action,
    targetType: route.targetType,
    targetId,
    sourceAddress: request.ip,
    detail: {
      method: request.method,
      path: request.url.split('?')[0] ?? '',
      ...(user?.apiKey ? { apiKeyName: user.apiKey.name, role: user.role } : {}),
      // The id of what a request on one resource created under it.
      ...(createdId !== null && createdId !== targetId ? { createdId } : {}),
      ...(body === undefined ? {} : { body }),
    },
  };
}

/** 401, 403 and 429 refuse who asked; anything else at 400 or above refuses what was asked. */
export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'success';
  return status === 401 || status === 403 || status === 429 ? 'denied' : 'failed';
}

function parsePayload(payload: unknown): unknown {
  const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
  if (typeof text !== 'string' || text.length > MAX_PARSED_PAYLOAD_CHARS || !text.startsWith('{')) {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function stringField(value: unknown, key: string): string | null {
  if (value === null || typeof value !== 'object') return null;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' && field !== '' ? field : null;
}

/** JSON bodies as sent (secrets are redacted on insert); bundles and other bytes by their size. */
function bodySummary(body: unknown): unknown {
  if (body === undefined || body === null) return undefined;
  if (Buffer.isBuffer(body)) return { bytes: body.length };
  if (typeof body !== 'object') return undefined;
  const prototype = Object.getPrototypeOf(body) as unknown;
  if (prototype !== Object.prototype && prototype !== Array.prototype && prototype !== null) return undefined;
  const json = JSON.stringify(body);
  if (json.length <= MAX_BODY_CHARS) return body;
  return { truncated: true, fields: Array.isArray(body) ? [] : Object.keys(body).slice(0, 50) };
}

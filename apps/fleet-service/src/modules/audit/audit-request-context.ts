import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyRequest } from 'fastify';
import type { AuthUser } from '../auth/auth.decorators.js';

/** What the audit of one HTTP request knows while the request runs. */
export interface RequestAuditContext {
  request: FastifyRequest & { user?: AuthUser };
  /**
   * Ids of the entries the handler recorded itself (release.created, auth.login...). They stand for the
   * request, so no generic entry is written beside them, unless none of them exists any more when the
   * request ends (recorded in a transaction that rolled back).
   */
  recorded: string[];
}

const storage = new AsyncLocalStorage<RequestAuditContext>();

/** Runs the rest of the request (Fastify's `done`) inside its audit context. */
export function runWithRequestAudit(context: RequestAuditContext, next: () => void): void {
  storage.run(context, next);
}

/** The audit context of the HTTP request this code runs for, if any (none for timers, MQTT, the ticker). */
export function currentRequestAudit(): RequestAuditContext | undefined {
  return storage.getStore();
}

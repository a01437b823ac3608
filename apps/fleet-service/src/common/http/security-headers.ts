import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** One year, as browsers' preload lists ask. */
const HSTS_MAX_AGE_SEC = 365 * 24 * 3600;

/**
 * Security headers on every response (console, API, /api/docs, errors and 404s alike): Nest's own
 * `useSecurityHeaders`, helmet's headers and defaults, tightened where the console allows it.
 * Must run before app.init().
 *
 * - Content-Security-Policy: helmet's defaults (scripts, fonts, images and connections from this
 *   origin only; `style-src` keeps 'unsafe-inline', which Naive UI's injected styles need, as does
 *   Swagger UI; the console's charts draw on a canvas), and `frame-ancestors 'none'` with
 *   `X-Frame-Options: DENY`: nothing may frame the console. No `upgrade-insecure-requests`: the
 *   service is often reached over plain HTTP on a LAN (README "The two commands"), where upgraded
 *   requests would fail.
 * - Strict-Transport-Security only on requests that came over TLS (`request.protocol`, from
 *   X-Forwarded-Proto when AGENTBOX_TRUST_PROXY is set; docs/operations.md).
 */
export function useSecurityHeaders(app: NestFastifyApplication): void {
  app.useSecurityHeaders({
    contentSecurityPolicy: {
      directives: {
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null,
      },
    },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      if (request.protocol === 'https') {
        void reply.header('strict-transport-security', `max-age=${HSTS_MAX_AGE_SEC}; includeSubDomains`);
      }
      done();
    });
}

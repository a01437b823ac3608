import type { INestApplication } from '@nestjs/common';
import { loadPackage } from '@nestjs/common/utils/load-package.util.js';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { zodComponents } from './common/openapi/zod-openapi.js';

/** The OpenAPI document: routes from the controllers, bodies from the zod schemas they validate with. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('AgentBox fleet service')
    .setDescription(
      'Device registry, provisioning and live fleet state. Every error is JSON `{statusCode, code, message}` with a stable `code`.',
    )
    .setVersion('1')
    // Relative: the document describes the service that serves it, wherever that is reached.
    .addServer('/', 'This fleet service')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controllerKey, methodKey) => methodKey,
  });
  document.components = {
    ...document.components,
    schemas: { ...(document.components?.schemas ?? {}), ...zodComponents() },
  };
  markPublicOperations(document);
  return document;
}

/**
 * Routes that need a token say so (`ApiSignedIn`, with its 401); the others are public (`@Public()`),
 * which OpenAPI states as an empty `security` list rather than by leaving it out (unstated means
 * "whatever the document's default is"). e2e/tests/contract.e2e.spec.ts calls each without a token.
 */
function markPublicOperations(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const) {
      const operation = item[method];
      if (operation && operation.security === undefined) operation.security = [];
    }
  }
}

/** Serves the UI at /api/docs and the JSON at /api/docs-json. */
export async function setupOpenApi(app: INestApplication): Promise<OpenAPIObject> {
  // @fastify/static is a dependency of this package, not hoisted where @nestjs/swagger would look for it;
  // loading it here primes Nest's package cache, which the swagger module then reads.
  await loadPackage('@fastify/static', 'SwaggerModule', () => import('@fastify/static'));
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  return document;
}

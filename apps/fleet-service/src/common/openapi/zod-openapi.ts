import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiErrorSchema } from '@agentbox/schemas';

type SchemaObject = Record<string, unknown>;

/**
 * Named OpenAPI components built from the zod schemas, so the document describes every request and
 * response body exactly as validated (the console generates its typed client from it).
 */
const components = new Map<string, SchemaObject>();

function register(name: string, schema: z.ZodType, io: 'input' | 'output'): { $ref: string } {
  if (!components.has(name)) {
    const json = z.toJSONSchema(schema, {
      target: 'openapi-3.0',
      io,
      unrepresentable: 'any',
    }) as SchemaObject;
    delete json.$schema;
    components.set(name, withNullInNullableEnums(json) as SchemaObject);
  }
  return { $ref: `#/components/schemas/${name}` };
}

/**
 * OpenAPI 3.0's `nullable: true` does not widen an `enum`: null must be one of its values too, or
 * validators refuse a null the API does send (`groupBy: null` of GET /api/v1/usage). zod leaves it out.
 */
function withNullInNullableEnums(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withNullInNullableEnums);
  if (node === null || typeof node !== 'object') return node;
  const object: SchemaObject = Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, withNullInNullableEnums(value)]),
  );
  if (object.nullable === true && Array.isArray(object.enum) && !object.enum.includes(null)) {
    object.enum = [...(object.enum as unknown[]), null];
  }
  return object;
}

/** Every component registered so far (merged into the document by setupOpenApi). */
export function zodComponents(): Record<string, SchemaObject> {
  register('ApiError', ApiErrorSchema, 'output');
  return Object.fromEntries(components);
}

/** Documents a JSON request body with the schema it is validated against (input shape: defaults optional). */
export function ApiZodBody(name: string, schema: z.ZodType): MethodDecorator {
  return ApiBody({ required: true, schema: register(name, schema, 'input') });
}

/** Documents a successful JSON response, and the response headers it carries, if any. */
export function ApiZodResponse(
  status: number,
  name: string,
  schema: z.ZodType,
  description = 'OK',
  headers?: Record<string, { description: string; schema: SchemaObject }>,
): MethodDecorator {
  return ApiResponse({
    status,
    description,
    schema: register(name, schema, 'output'),
    ...(headers ? { headers } : {}),
  });
}

/**
 * Documents error responses, all shaped `{statusCode, code, message}`. On a controller it documents them
 * for every route; a route's own list adds to it.
 */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  const ref = register('ApiError', ApiErrorSchema, 'output');
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: 'Error', schema: ref })),
  );
}

/** Documents that the route (or every route of a controller) needs a bearer token, and its 401 without one. */
export function ApiSignedIn(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiBearerAuth(), ApiErrors(401));
}

import { applyDecorators, HttpCode } from '@nestjs/common';
import {
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  type ApiParamOptions,
  type ApiQueryOptions,
  type ApiResponseOptions,
} from '@nestjs/swagger';
import type { z } from 'zod';
import type { UserRole } from '@agentbox/schemas';
import { Roles } from '../../modules/auth/auth.decorators.js';
import { ApiErrors, ApiZodBody, ApiZodResponse } from './zod-openapi.js';

/** Everything an HTTP endpoint declares besides its route: who may call it and what the API document says. */
export interface EndpointSpec {
  operationId: string;
  summary: string;
  /** The least role allowed (viewer < operator < admin); absent: any signed-in caller. */
  role?: UserRole;
  /** The status of a success when it is not Nest's default (201 for POST, else 200). */
  status?: number;
  /** Path parameters: a name (a string) or full options. */
  params?: Array<string | ApiParamOptions>;
  query?: ApiQueryOptions[];
  /** The JSON request body: its component name and the schema it is validated with. */
  body?: [name: string, schema: z.ZodType];
  /** The JSON success response, as ApiZodResponse takes it. */
  returns?: Parameters<typeof ApiZodResponse>;
  /** Success responses without a JSON schema (204, a stream, a file). */
  responses?: ApiResponseOptions[];
  /** Error statuses, all answered as `{statusCode, code, message}`. */
  errors?: number[];
}

/**
 * One decorator for an endpoint's roles, HTTP status and OpenAPI description. The parts apply in the
 * order a stack of the single decorators written in that order (role, status, operation, params, query,
 * body, responses, errors) would, so the document is the same as with the stack.
 */
export function Endpoint(spec: EndpointSpec): MethodDecorator {
  const {
    operationId,
    summary,
    role,
    status,
    params = [],
    query = [],
    body,
    returns,
    responses = [],
    errors,
  } = spec;
  const parts: MethodDecorator[] = [
    ...(role ? [Roles(role)] : []),
    ...(status === undefined ? [] : [HttpCode(status)]),
    ApiOperation({ operationId, summary }),
    ...params.map((param) => ApiParam(typeof param === 'string' ? { name: param, type: String } : param)),
    ...query.map((options) => ApiQuery(options)),
    ...(body ? [ApiZodBody(...body)] : []),
    ...(returns ? [ApiZodResponse(...returns)] : []),
    ...responses.map((options) => ApiResponse(options)),
    ...(errors ? [ApiErrors(...errors)] : []),
  ];
  // A stack of decorators applies from the bottom up; applyDecorators from the first.
  return applyDecorators(...parts.reverse());
}

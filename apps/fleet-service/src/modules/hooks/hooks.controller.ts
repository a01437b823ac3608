import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  HOOK_WAIT_MAX_SEC,
  type HookCreateRequest,
  HookCreateRequestSchema,
  HookCreatedDtoSchema,
  HookDeliveryListResponseSchema,
  HookDtoSchema,
  HookIdSchema,
  HookInvokeAcceptedSchema,
  HookInvokeQueuedSchema,
  HookInvokeResultSchema,
  HookListResponseSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { CurrentUser, Public, Roles, type AuthUser } from '../auth/auth.decorators.js';
import { HooksService } from './hooks.service.js';

const HookIdPipe = new ZodValidationPipe(HookIdSchema);
/** `?wait=`: seconds, capped at HOOK_WAIT_MAX_SEC; 0 when left out. */
export const HookWaitSchema = z.coerce
  .number()
  .int()
  .min(0)
  .optional()
  .transform((value) => Math.min(value ?? 0, HOOK_WAIT_MAX_SEC));

/** The service's address as the caller reached it, for hook URLs when AGENTBOX_PUBLIC_URL is unset. */
function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

@ApiTags('hooks')
@ApiSignedIn()
@Controller('api/v1/hooks')
export class HooksController {
  constructor(private readonly hooks: HooksService) {}

  @Get()
  @ApiOperation({ operationId: 'listHooks', summary: 'Webhooks, newest first, without their secrets' })
  @ApiZodResponse(200, 'HookListResponse', HookListResponseSchema)
  list(@Req() request: FastifyRequest) {
    return this.hooks.list(originOf(request));
  }

  @Post()
  @Roles('operator')
  @ApiOperation({
    operationId: 'createHook',
    summary: 'Create a webhook relayed to an agent on a box; its secret is in this response only (operator)',
  })
  @ApiZodBody('HookCreateRequest', HookCreateRequestSchema)
  @ApiZodResponse(201, 'HookCreatedDto', HookCreatedDtoSchema, 'Created')
  @ApiErrors(400, 404)
  create(
    @Body(new ZodValidationPipe(HookCreateRequestSchema)) body: HookCreateRequest,
    @CurrentUser() user: AuthUser,
    @Req() request: FastifyRequest,
  ) {
    return this.hooks.create(body, user, originOf(request));
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getHook', summary: 'One webhook, without its secret' })
  @ApiZodResponse(200, 'HookDto', HookDtoSchema)
  @ApiErrors(400, 404)
  get(@Param('id', HookIdPipe) id: string, @Req() request: FastifyRequest) {
    return this.hooks.get(id, originOf(request));
  }

  @Delete(':id')
  @Roles('operator')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteHook',
    summary: 'Delete a webhook and its waiting deliveries (operator)',
  })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(400, 404)
  remove(@Param('id', HookIdPipe) id: string, @CurrentUser() user: AuthUser) {
    return this.hooks.remove(id, user);
  }

  @Post(':id/secret')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'rotateHookSecret',
    summary: 'Replace the secret at once; the new one is in this response only (operator)',
  })
  @ApiZodResponse(200, 'HookCreatedDto', HookCreatedDtoSchema)
  @ApiErrors(400, 404)
  rotate(@Param('id', HookIdPipe) id: string, @CurrentUser() user: AuthUser, @Req() request: FastifyRequest) {
    return this.hooks.rotateSecret(id, user, originOf(request));
  }

  @Get(':id/deliveries')
  @ApiOperation({
    operationId: 'listHookDeliveries',
    summary: 'Invocations queued for the box while it was offline, newest first (the latest 200)',
  })
  @ApiZodResponse(200, 'HookDeliveryListResponse', HookDeliveryListResponseSchema)
  @ApiErrors(400, 404)
  deliveries(@Param('id', HookIdPipe) id: string) {
    return this.hooks.listDeliveries(id);
  }
}

/** The invoke route: no console login, the hook's secret authenticates (docs/protocol.md, "Hooks"). */
@ApiTags('hooks')
@Public()
@Controller('api/v1/hooks')
export class HookInvokeController {
  constructor(private readonly hooks: HooksService) {}

  @Post(':id/invoke')
  @Public()
  @ApiOperation({
    operationId: 'invokeHook',
    summary:
      'Run the hook\'s agent with the JSON body as its input. Authenticated by the hook secret ("Authorization: Bearer <secret>") or an HMAC signature, not by a console login',
  })
  @ApiHeader({ name: 'Authorization', required: false, description: '`Bearer <hook secret>`' })
  @ApiHeader({ name: 'X-AgentBox-Timestamp', required: false, description: 'Unix seconds, with a signature' })
  @ApiHeader({
    name: 'X-AgentBox-Signature',
    required: false,
    description: '`sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" keyed by the hook secret>`',
  })
  @ApiQuery({
    name: 'wait',
    required: false,
    description: `Seconds (at most ${HOOK_WAIT_MAX_SEC}) to wait for the run to end and answer 200 with its output`,
    schema: { type: 'integer', minimum: 0, maximum: HOOK_WAIT_MAX_SEC },
  })
  @ApiZodBody(
    'HookInvokeBody',
    z.record(z.string(), z.unknown()).describe('Any JSON document, at most 256 KiB'),
  )
  @ApiZodResponse(200, 'HookInvokeResult', HookInvokeResultSchema, 'The run ended within `wait`')
  @ApiZodResponse(
    202,
    'HookInvokeAccepted',
    z.union([HookInvokeAcceptedSchema, HookInvokeQueuedSchema]),
    'The box took the call (`runId`), or it is offline and the call waits for it (`deliveryId`)',
  )
  @ApiErrors(400, 401, 404, 409, 413, 429, 504)
  async invoke(
    @Param('id', HookIdPipe) id: string,
    @Query('wait', new ZodValidationPipe(HookWaitSchema)) wait: number,
    @Req() request: FastifyRequest & { rawBody?: Buffer },
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const outcome = await this.hooks.invoke(
      id,
      {
        // JSON bodies keep their bytes (json-body.ts); a text/plain body is its text as sent.
        body:
          request.rawBody ??
          (typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : Buffer.alloc(0)),
        authorization: header('authorization'),
        timestamp: header('x-agentbox-timestamp'),
        signature: header('x-agentbox-signature'),
        waitSec: wait,
      },
      (seconds) => void reply.header('retry-after', String(seconds)),
    );
    await reply.status(outcome.status).send(outcome.body);
  }
}

import { Readable } from 'node:stream';
import { applyDecorators, Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  AUDIT_OUTCOMES,
  AuditEntryDtoSchema,
  type AuditFilter,
  AuditFilterSchema,
  type AuditQuery,
  AuditQuerySchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { Roles } from '../auth/auth.decorators.js';
import { AuditService } from './audit.service.js';

/** The filters both routes take. */
function ApiAuditFilters(): MethodDecorator {
  return applyDecorators(
    ApiQuery({ name: 'from', required: false, type: String, description: 'ISO 8601 instant, inclusive' }),
    ApiQuery({ name: 'to', required: false, type: String, description: 'ISO 8601 instant, exclusive' }),
    ApiQuery({
      name: 'actor',
      required: false,
      type: String,
      description: 'user name, abk_<id>, claim token id, system or anonymous',
    }),
    ApiQuery({
      name: 'action',
      required: false,
      type: String,
      description: 'exact action, or a prefix ending in * (release.*)',
    }),
    ApiQuery({ name: 'targetType', required: false, type: String }),
    ApiQuery({
      name: 'outcome',
      required: false,
      enum: AUDIT_OUTCOMES,
      description: 'success, denied (401, 403, 429) or failed (any other refusal or error)',
    }),
    ApiQuery({ name: 'targetId', required: false, type: String }),
    ApiQuery({ name: 'before', required: false, type: Number, description: 'ms since the epoch, exclusive' }),
  );
}

@ApiTags('audit')
@ApiSignedIn()
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('operator')
  @ApiOperation({
    operationId: 'listAudit',
    summary:
      'Audit log of every mutating request, login and service action, newest first; X-Next-Cursor holds the next page (operator)',
  })
  @ApiAuditFilters()
  @ApiQuery({
    name: 'cursor',
    required: false,
    type: String,
    description: 'X-Next-Cursor of the previous page',
  })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiZodResponse(200, 'AuditEntryDtoList', z.array(AuditEntryDtoSchema), 'OK', {
    'X-Next-Cursor': {
      description: 'Pass as `cursor` for the next (older) page; absent on the last page',
      schema: { type: 'string' },
    },
  })
  @ApiErrors(400)
  async list(
    @Query(new ZodValidationPipe(AuditQuerySchema)) query: AuditQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const page = await this.audit.list(query);
    if (page.nextCursor) void reply.header('x-next-cursor', page.nextCursor);
    return page.items;
  }

  @Get('export.csv')
  @Roles('admin')
  @ApiOperation({
    operationId: 'exportAuditCsv',
    summary: 'The audit log as CSV, newest first, with the same filters as the list; streamed (admin)',
  })
  @ApiAuditFilters()
  @ApiProduces('text/csv')
  @ApiResponse({
    status: 200,
    description:
      'CSV: at, actor, action, target_type, target_id, detail (JSON), actor_type, actor_id, outcome, status, error_code, source_address',
    content: { 'text/csv': { schema: { type: 'string' } } },
  })
  // 401 again here, so that ApiProduces documents it as text/csv like every other response of the route.
  @ApiErrors(400, 401)
  async exportCsv(
    @Query(new ZodValidationPipe(AuditFilterSchema)) filter: AuditFilter,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    await reply
      .status(200)
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="agentbox-audit-${stamp}.csv"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(this.audit.exportCsv(filter)));
  }
}

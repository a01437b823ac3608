import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiErrors, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { Roles } from '../auth/auth.decorators.js';
import { AuditEntryDtoSchema, AuditQuerySchema, type AuditQuery } from './audit.dto.js';
import { AuditService } from './audit.service.js';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('operator')
  @ApiOperation({
    operationId: 'listAudit',
    summary: 'Audit log of release, root and rollout actions, newest first (operator)',
  })
  @ApiQuery({ name: 'targetType', required: false, type: String })
  @ApiQuery({ name: 'targetId', required: false, type: String })
  @ApiQuery({ name: 'action', required: false, type: String })
  @ApiQuery({ name: 'before', required: false, type: Number, description: 'ms since the epoch' })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiZodResponse(200, 'AuditEntryDtoList', z.array(AuditEntryDtoSchema))
  @ApiErrors(400, 401, 403)
  list(@Query(new ZodValidationPipe(AuditQuerySchema)) query: AuditQuery) {
    return this.audit.list(query);
  }
}

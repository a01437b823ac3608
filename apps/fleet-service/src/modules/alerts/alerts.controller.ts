import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import {
  ALERT_STATES,
  AlertingIdSchema,
  AlertListQuerySchema,
  AlertListSchema,
  CreatedIdSchema,
  SilenceCreateRequestSchema,
  SilenceListSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { CurrentUser, Roles, type AuthUser } from '../auth/auth.decorators.js';
import { AlertsService } from './alerts.service.js';
import { SilencesService } from './silences.service.js';

@ApiTags('alerts')
@ApiSignedIn()
@Controller('api/v1/alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @ApiOperation({ operationId: 'listAlerts', summary: 'Firing alerts, then recently resolved ones' })
  @ApiQuery({ name: 'state', required: false, enum: ALERT_STATES })
  @ApiZodResponse(200, 'AlertList', AlertListSchema)
  @ApiErrors(400)
  async list(
    @Query(new ZodValidationPipe(AlertListQuerySchema)) query: z.output<typeof AlertListQuerySchema>,
  ) {
    return { items: await this.alerts.list(query.state) };
  }
}

@ApiTags('alerts')
@ApiSignedIn()
@Controller('api/v1/silences')
export class SilencesController {
  constructor(private readonly silences: SilencesService) {}

  @Get()
  @ApiOperation({ operationId: 'listSilences', summary: 'Silences in force' })
  @ApiZodResponse(200, 'SilenceList', SilenceListSchema)
  async list() {
    return { items: await this.silences.list() };
  }

  @Post()
  @Roles('operator')
  @ApiOperation({
    operationId: 'createSilence',
    summary: 'Silence a rule, a box or both until endsAt (operator)',
  })
  @ApiZodBody('SilenceCreateRequest', SilenceCreateRequestSchema)
  @ApiZodResponse(201, 'CreatedId', CreatedIdSchema)
  @ApiErrors(400)
  create(
    @Body(new ZodValidationPipe(SilenceCreateRequestSchema))
    body: z.output<typeof SilenceCreateRequestSchema>,
    @CurrentUser() user: AuthUser,
  ) {
    return this.silences.create(body, user.username);
  }

  @Delete(':id')
  @Roles('operator')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteSilence', summary: 'End a silence now (operator)' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(400, 404)
  remove(@Param('id', new ZodValidationPipe(AlertingIdSchema)) id: string) {
    return this.silences.remove(id);
  }
}

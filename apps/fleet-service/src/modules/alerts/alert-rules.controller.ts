import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  AlertingIdSchema,
  AlertRuleCreateRequestSchema,
  AlertRuleDtoSchema,
  AlertRuleUpdateRequestSchema,
  CreatedIdSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { Roles } from '../auth/auth.decorators.js';
import { AlertRulesService } from './alert-rules.service.js';

const RuleIdPipe = new ZodValidationPipe(AlertingIdSchema);

@ApiTags('alerts')
@ApiSignedIn()
@Controller('api/v1/alert-rules')
export class AlertRulesController {
  constructor(private readonly rules: AlertRulesService) {}

  @Get()
  @ApiOperation({ operationId: 'listAlertRules', summary: 'Alert rules' })
  @ApiZodResponse(200, 'AlertRuleDtoList', z.array(AlertRuleDtoSchema))
  list() {
    return this.rules.list();
  }

  @Post()
  @Roles('operator')
  @ApiOperation({ operationId: 'createAlertRule', summary: 'Add an alert rule (operator)' })
  @ApiZodBody('AlertRuleCreateRequest', AlertRuleCreateRequestSchema)
  @ApiZodResponse(201, 'CreatedId', CreatedIdSchema)
  @ApiErrors(400)
  create(
    @Body(new ZodValidationPipe(AlertRuleCreateRequestSchema))
    body: z.output<typeof AlertRuleCreateRequestSchema>,
  ) {
    return this.rules.create(body);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getAlertRule', summary: 'One alert rule' })
  @ApiZodResponse(200, 'AlertRuleDto', AlertRuleDtoSchema)
  @ApiErrors(400, 404)
  get(@Param('id', RuleIdPipe) id: string) {
    return this.rules.get(id);
  }

  @Patch(':id')
  @Roles('operator')
  @ApiOperation({
    operationId: 'updateAlertRule',
    summary: 'Change an alert rule; a new kind or disabling it clears its alerts (operator)',
  })
  @ApiZodBody('AlertRuleUpdateRequest', AlertRuleUpdateRequestSchema)
  @ApiZodResponse(200, 'AlertRuleDto', AlertRuleDtoSchema)
  @ApiErrors(400, 404)
  update(
    @Param('id', RuleIdPipe) id: string,
    @Body(new ZodValidationPipe(AlertRuleUpdateRequestSchema))
    body: z.output<typeof AlertRuleUpdateRequestSchema>,
  ) {
    return this.rules.update(id, body);
  }

  @Delete(':id')
  @Roles('operator')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteAlertRule', summary: 'Delete an alert rule and its alerts (operator)' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(400, 404)
  remove(@Param('id', RuleIdPipe) id: string) {
    return this.rules.remove(id);
  }
}

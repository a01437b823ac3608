import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { USAGE_GROUPS, UsageQuerySchema, UsageResponseSchema, UsageSummarySchema } from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { UsageService } from './usage.service.js';

@ApiTags('usage')
@ApiSignedIn()
@Controller('api/v1/usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @ApiOperation({
    operationId: 'getUsage',
    summary: 'Token usage per hour or day (UTC), optionally one series per agent, box, model or provider',
  })
  @ApiQuery({
    name: 'from',
    required: false,
    type: String,
    description: 'ISO 8601; default 7 days before `to`',
  })
  @ApiQuery({ name: 'to', required: false, type: String, description: 'ISO 8601; default now' })
  @ApiQuery({ name: 'bucket', required: false, enum: ['hour', 'day'] })
  @ApiQuery({ name: 'groupBy', required: false, enum: USAGE_GROUPS })
  @ApiQuery({ name: 'deviceId', required: false, type: String })
  @ApiQuery({ name: 'agentId', required: false, type: String })
  @ApiZodResponse(200, 'UsageResponse', UsageResponseSchema)
  @ApiErrors(400)
  series(@Query(new ZodValidationPipe(UsageQuerySchema)) query: z.output<typeof UsageQuerySchema>) {
    return this.usage.series(query);
  }

  @Get('summary')
  @ApiOperation({
    operationId: 'getUsageSummary',
    summary: 'Tokens today and this week, the daily budget of everything assigned, top agents and boxes',
  })
  @ApiZodResponse(200, 'UsageSummary', UsageSummarySchema)
  summary() {
    return this.usage.summary();
  }
}

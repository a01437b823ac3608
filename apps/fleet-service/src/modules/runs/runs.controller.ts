import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  RecordIdSchema,
  RUN_STATUSES,
  RunDetailDtoSchema,
  RunDtoSchema,
  type RunListQuery,
  RunListQuerySchema,
  RUNS_MAX_LIMIT,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { RunsService } from './runs.service.js';

@ApiTags('runs')
@ApiSignedIn()
@Controller('api/v1/runs')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Get()
  @ApiOperation({ operationId: 'listRuns', summary: 'Agent runs, newest first' })
  @ApiQuery({ name: 'deviceId', required: false, type: String })
  @ApiQuery({ name: 'agentId', required: false, type: String })
  @ApiQuery({ name: 'status', required: false, enum: RUN_STATUSES })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: `1-${RUNS_MAX_LIMIT}, default 50` })
  @ApiQuery({
    name: 'before',
    required: false,
    type: String,
    description: 'ISO 8601: runs created before this time',
  })
  @ApiZodResponse(200, 'RunDtoList', z.array(RunDtoSchema))
  @ApiErrors(400)
  list(@Query(new ZodValidationPipe(RunListQuerySchema)) query: RunListQuery) {
    return this.runs.list(query);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getRun', summary: 'One run with its steps' })
  @ApiZodResponse(200, 'RunDetailDto', RunDetailDtoSchema)
  @ApiErrors(400, 404)
  get(@Param('id', new ZodValidationPipe(RecordIdSchema)) id: string) {
    return this.runs.get(id);
  }
}

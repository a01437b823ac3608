import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  DeviceUpdateDtoSchema,
  DeviceUpdatesQuerySchema,
  ROLLOUT_STATUSES,
  type RolloutCreateRequest,
  RolloutCreateRequestSchema,
  RolloutDetailDtoSchema,
  RolloutDtoSchema,
  RolloutListQuerySchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { CurrentUser, Roles, type AuthUser } from '../auth/auth.decorators.js';
import { DeviceIdPipe } from '../devices/device-id.pipe.js';
import type { OperatorAction } from './rollout-audit.js';
import { RolloutsService } from './rollouts.service.js';

const RolloutIdPipe = new ZodValidationPipe(z.uuid());

@ApiTags('rollouts')
@ApiSignedIn()
@Controller('api/v1/rollouts')
export class RolloutsController {
  constructor(private readonly rollouts: RolloutsService) {}

  @Post()
  @Roles('operator')
  @ApiOperation({
    operationId: 'createRollout',
    summary: 'Create a rollout of a ready release to boxes, in phases; it waits for start (operator)',
  })
  @ApiZodBody('RolloutCreateRequest', RolloutCreateRequestSchema)
  @ApiZodResponse(201, 'RolloutDetailDto', RolloutDetailDtoSchema, 'Created')
  @ApiErrors(400, 404, 409)
  create(
    @Body(new ZodValidationPipe(RolloutCreateRequestSchema)) body: RolloutCreateRequest,
    @CurrentUser() user: AuthUser,
  ) {
    return this.rollouts.create(body, user.username);
  }

  @Get()
  @ApiOperation({
    operationId: 'listRollouts',
    summary: 'Rollouts, newest first, with box counts per status',
  })
  @ApiQuery({ name: 'status', required: false, enum: ROLLOUT_STATUSES })
  @ApiQuery({ name: 'releaseId', required: false, type: String })
  @ApiZodResponse(200, 'RolloutDtoList', z.array(RolloutDtoSchema))
  @ApiErrors(400)
  list(@Query(new ZodValidationPipe(RolloutListQuerySchema)) query: z.output<typeof RolloutListQuerySchema>) {
    return this.rollouts.list(query);
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'getRollout',
    summary: 'A rollout with its phases (counts per status) and boxes',
  })
  @ApiZodResponse(200, 'RolloutDetailDto', RolloutDetailDtoSchema)
  @ApiErrors(400, 404)
  get(@Param('id', RolloutIdPipe) id: string) {
    return this.rollouts.get(id);
  }

  @Post(':id/start')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'startRollout',
    summary: 'Start a created rollout: its first phase is offered (operator)',
  })
  @ApiZodResponse(200, 'RolloutDetailDto', RolloutDetailDtoSchema)
  @ApiErrors(400, 404, 409)
  start(@Param('id', RolloutIdPipe) id: string, @CurrentUser() user: AuthUser) {
    return this.act(id, 'start', user);
  }

  @Post(':id/pause')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'pauseRollout',
    summary: 'Pause: no new box is offered the update; boxes already on it go on (operator)',
  })
  @ApiZodResponse(200, 'RolloutDetailDto', RolloutDetailDtoSchema)
  @ApiErrors(400, 404, 409)
  pause(@Param('id', RolloutIdPipe) id: string, @CurrentUser() user: AuthUser) {
    return this.act(id, 'pause', user);
  }

  @Post(':id/resume')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'resumeRollout',
    summary: 'Resume a paused rollout; a phase waiting for approval moves on to the next (operator)',
  })
  @ApiZodResponse(200, 'RolloutDetailDto', RolloutDetailDtoSchema)
  @ApiErrors(400, 404, 409)
  resume(@Param('id', RolloutIdPipe) id: string, @CurrentUser() user: AuthUser) {
    return this.act(id, 'resume', user);
  }

  @Post(':id/cancel')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'cancelRollout',
    summary: 'Cancel: offers not yet being installed are withdrawn; updated boxes stay updated (operator)',
  })
  @ApiZodResponse(200, 'RolloutDetailDto', RolloutDetailDtoSchema)
  @ApiErrors(400, 404, 409)
  cancel(@Param('id', RolloutIdPipe) id: string, @CurrentUser() user: AuthUser) {
    return this.act(id, 'cancel', user);
  }

  @Post(':id/retry-failed')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'retryFailedRollout',
    summary: 'Offer the update again to boxes that failed, rolled back or rejected it (operator)',
  })
  @ApiZodResponse(200, 'RolloutDetailDto', RolloutDetailDtoSchema)
  @ApiErrors(400, 404, 409)
  retryFailed(@Param('id', RolloutIdPipe) id: string, @CurrentUser() user: AuthUser) {
    return this.act(id, 'retry-failed', user);
  }

  private act(id: string, action: OperatorAction, user: AuthUser) {
    return this.rollouts.act(id, action, user.username);
  }
}

@ApiTags('devices')
@ApiSignedIn()
@Controller('api/v1/devices')
export class DeviceUpdatesController {
  constructor(private readonly rollouts: RolloutsService) {}

  @Get(':id/updates')
  @ApiOperation({
    operationId: 'listDeviceUpdates',
    summary: "A box's update history (up/update reports), newest first",
  })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1-1000, default 200' })
  @ApiZodResponse(200, 'DeviceUpdateDtoList', z.array(DeviceUpdateDtoSchema))
  @ApiErrors(400, 404)
  updates(
    @Param('id', DeviceIdPipe) id: string,
    @Query(new ZodValidationPipe(DeviceUpdatesQuerySchema)) query: z.output<typeof DeviceUpdatesQuerySchema>,
  ) {
    return this.rollouts.deviceUpdates(id, query.limit);
  }
}

import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  type DesiredStateRequest,
  DesiredStateRequestSchema,
  DesiredStateResponseSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { Roles } from '../auth/auth.decorators.js';
import { DeviceIdPipe } from '../devices/device-id.pipe.js';
import { DesiredStateService } from './desired-state.service.js';

@ApiTags('desired-state')
@ApiSignedIn()
@Controller('api/v1/devices/:id/desired')
export class DesiredStateController {
  constructor(private readonly desired: DesiredStateService) {}

  @Get()
  @ApiOperation({
    operationId: 'getDesiredState',
    summary: 'Desired document and last reported state of a box',
  })
  @ApiZodResponse(200, 'DesiredStateResponse', DesiredStateResponseSchema)
  @ApiErrors(400, 404)
  get(@Param('id', DeviceIdPipe) id: string) {
    return this.desired.get(id);
  }

  @Put()
  @Roles('operator')
  @ApiOperation({
    operationId: 'setDesiredState',
    summary: 'Replace the desired document (version + 1) and publish it (operator)',
  })
  @ApiZodBody('DesiredStateRequest', DesiredStateRequestSchema)
  @ApiZodResponse(200, 'DesiredStateResponse', DesiredStateResponseSchema)
  @ApiErrors(400, 404, 413)
  put(
    @Param('id', DeviceIdPipe) id: string,
    @Body(new ZodValidationPipe(DesiredStateRequestSchema)) body: DesiredStateRequest,
  ) {
    return this.desired.setDesired(id, body.spec);
  }
}

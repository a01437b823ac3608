import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DeviceAgentDtoSchema } from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { DeviceIdPipe } from '../devices/device-id.pipe.js';
import { AgentFleetService } from './agent-fleet.service.js';

@ApiTags('agents')
@ApiSignedIn()
@Controller('api/v1/devices/:id/agents')
export class DeviceAgentsController {
  constructor(private readonly fleet: AgentFleetService) {}

  @Get()
  @ApiOperation({
    operationId: 'listDeviceAgents',
    summary:
      'Agents of one box: the ones it should run and the ones it reports (desiredVersion null: to be removed)',
  })
  @ApiZodResponse(200, 'DeviceAgentDtoList', z.array(DeviceAgentDtoSchema))
  @ApiErrors(400, 404)
  list(@Param('id', DeviceIdPipe) id: string) {
    return this.fleet.deviceAgents(id);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  DEVICE_SORT_FIELDS,
  DeviceDtoSchema,
  type DeviceListQuery,
  DeviceListQuerySchema,
  DeviceListResponseSchema,
  type DeviceUpdateRequest,
  DeviceUpdateRequestSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { Roles } from '../auth/auth.decorators.js';
import { DeviceIdPipe } from './device-id.pipe.js';
import { DevicesService } from './devices.service.js';

@ApiTags('devices')
@ApiSignedIn()
@Controller('api/v1/devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  @ApiOperation({ operationId: 'listDevices', summary: 'List devices with search, filters and sorting' })
  @ApiQuery({
    name: 'q',
    required: false,
    type: String,
    description: 'Text search in name, id and hardwareId',
  })
  @ApiQuery({ name: 'online', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'tag', required: false, type: String })
  @ApiQuery({ name: 'sort', required: false, enum: DEVICE_SORT_FIELDS })
  @ApiQuery({ name: 'order', required: false, enum: ['asc', 'desc'] })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1-1000, default 100' })
  @ApiQuery({ name: 'offset', required: false, type: Number })
  @ApiZodResponse(200, 'DeviceListResponse', DeviceListResponseSchema)
  @ApiErrors(400)
  list(@Query(new ZodValidationPipe(DeviceListQuerySchema)) query: DeviceListQuery) {
    return this.devices.list(query);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getDevice', summary: 'One device' })
  @ApiZodResponse(200, 'DeviceDto', DeviceDtoSchema)
  @ApiErrors(400, 404)
  get(@Param('id', DeviceIdPipe) id: string) {
    return this.devices.get(id);
  }

  @Patch(':id')
  @Roles('operator')
  @ApiOperation({ operationId: 'updateDevice', summary: 'Rename or retag a device (operator)' })
  @ApiZodBody('DeviceUpdateRequest', DeviceUpdateRequestSchema)
  @ApiZodResponse(200, 'DeviceDto', DeviceDtoSchema)
  @ApiErrors(400, 404)
  update(
    @Param('id', DeviceIdPipe) id: string,
    @Body(new ZodValidationPipe(DeviceUpdateRequestSchema)) body: DeviceUpdateRequest,
  ) {
    return this.devices.update(id, body);
  }

  @Delete(':id')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteDevice',
    summary: 'Delete a device and revoke its broker access (admin)',
  })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(400, 404)
  remove(@Param('id', DeviceIdPipe) id: string) {
    return this.devices.remove(id);
  }
}

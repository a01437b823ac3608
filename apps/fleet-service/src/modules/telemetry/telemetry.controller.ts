import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  DeviceDeliveryResponseSchema,
  MetricNameSchema,
  TELEMETRY_MAX_LIMIT,
  TelemetryCatalogResponseSchema,
  type TelemetryQuery,
  TelemetryQuerySchema,
  TelemetryResponseSchema,
  type TelemetrySeriesQuery,
  TelemetrySeriesQuerySchema,
  TelemetrySeriesResponseSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { DeviceIdPipe } from '../devices/device-id.pipe.js';
import { TelemetryService } from './telemetry.service.js';

const CatalogQuerySchema = z.object({ name: MetricNameSchema.optional() });

@ApiTags('telemetry')
@ApiSignedIn()
@Controller('api/v1')
export class TelemetryController {
  constructor(private readonly telemetry: TelemetryService) {}

  @Get('devices/:id/telemetry')
  @ApiOperation({ operationId: 'getDeviceTelemetry', summary: 'Telemetry samples of one box, oldest first' })
  @ApiQuery({
    name: 'since',
    required: false,
    type: String,
    description: 'ISO 8601 or epoch ms; absent = the latest samples',
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    type: Number,
    description: `1-${TELEMETRY_MAX_LIMIT}, default 1000`,
  })
  @ApiZodResponse(200, 'TelemetryResponse', TelemetryResponseSchema)
  @ApiErrors(400)
  series(
    @Param('id', DeviceIdPipe) id: string,
    @Query(new ZodValidationPipe(TelemetryQuerySchema)) query: TelemetryQuery,
  ) {
    return this.telemetry.series(id, query);
  }

  @Get('devices/:id/telemetry/series')
  @ApiOperation({
    operationId: 'getDeviceTelemetrySeries',
    summary:
      'Telemetry of one box over a span: samples as stored, or 1-minute or 1-hour rollups (min, avg, max)',
  })
  @ApiQuery({ name: 'from', required: true, type: String, description: 'ISO 8601 or epoch ms' })
  @ApiQuery({ name: 'to', required: false, type: String, description: 'ISO 8601 or epoch ms; default now' })
  @ApiQuery({
    name: 'resolution',
    required: false,
    enum: ['auto', 'raw', '1m', '1h'],
    description: 'auto (default): samples up to 6 h, 1-minute rollups up to 3 days, hourly beyond',
  })
  @ApiZodResponse(200, 'TelemetrySeriesResponse', TelemetrySeriesResponseSchema)
  @ApiErrors(400)
  seriesOf(
    @Param('id', DeviceIdPipe) id: string,
    @Query(new ZodValidationPipe(TelemetrySeriesQuerySchema)) query: TelemetrySeriesQuery,
  ) {
    return this.telemetry.seriesOf(id, query);
  }

  @Get('devices/:id/delivery')
  @ApiOperation({
    operationId: 'getDeviceDelivery',
    summary: "Spool records of one box that never reached storage, and its spool's own drops",
  })
  @ApiZodResponse(200, 'DeviceDeliveryResponse', DeviceDeliveryResponseSchema)
  @ApiErrors(400)
  delivery(@Param('id', DeviceIdPipe) id: string) {
    return this.telemetry.delivery(id);
  }

  @Get('telemetry/catalog')
  @ApiOperation({
    operationId: 'getTelemetryCatalog',
    summary: 'Definitions (unit, type, description) of the metrics boxes report',
  })
  @ApiQuery({ name: 'name', required: false, type: String, description: 'also describe this metric name' })
  @ApiZodResponse(200, 'TelemetryCatalogResponse', TelemetryCatalogResponseSchema)
  @ApiErrors(400)
  catalog(@Query(new ZodValidationPipe(CatalogQuerySchema)) query: z.output<typeof CatalogQuerySchema>) {
    return this.telemetry.catalog(query.name);
  }
}

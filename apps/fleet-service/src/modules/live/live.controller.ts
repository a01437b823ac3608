import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiSignedIn } from '../../common/openapi/zod-openapi.js';
import { AcceptQueryToken } from '../auth/auth.decorators.js';
import { LiveStreamService } from './live-stream.service.js';

@ApiTags('live')
@Controller('api/v1/live')
export class LiveController {
  constructor(private readonly streams: LiveStreamService) {}

  @Get()
  @AcceptQueryToken()
  @ApiSignedIn()
  @ApiOperation({
    operationId: 'live',
    summary: 'Server-sent events: device.status, device.updated, telemetry (event name = LiveEvent.type)',
  })
  @ApiQuery({
    name: 'access_token',
    required: false,
    type: String,
    description: 'JWT, for EventSource clients',
  })
  @ApiProduces('text/event-stream')
  @ApiResponse({
    status: 200,
    description: 'text/event-stream of LiveEvent JSON',
    schema: { type: 'string' },
  })
  stream(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    this.streams.open(request, reply);
  }
}

import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiSignedIn } from '../../common/openapi/zod-openapi.js';
import { AcceptStreamTicket, CurrentUser, type AuthUser } from '../auth/auth.decorators.js';
import { LiveStreamService } from './live-stream.service.js';

@ApiTags('live')
@Controller('api/v1/live')
export class LiveController {
  constructor(private readonly streams: LiveStreamService) {}

  @Get()
  @AcceptStreamTicket()
  @ApiSignedIn()
  @ApiOperation({
    operationId: 'live',
    summary: 'Server-sent events: device.status, device.updated, telemetry (event name = LiveEvent.type)',
  })
  @ApiQuery({
    name: 'ticket',
    required: false,
    type: String,
    description: 'A stream ticket (POST /api/v1/auth/stream-ticket), for EventSource clients',
  })
  @ApiProduces('text/event-stream')
  @ApiResponse({
    status: 200,
    description: 'text/event-stream of LiveEvent JSON',
    schema: { type: 'string' },
  })
  stream(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @CurrentUser() caller: AuthUser) {
    this.streams.open(request, reply, caller);
  }
}

import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { LivenessSchema, ReadinessSchema } from '@agentbox/schemas';
import { ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { Public } from '../auth/auth.decorators.js';
import { HealthService } from './health.service.js';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('healthz')
  @ApiOperation({ operationId: 'liveness', summary: 'Liveness: the process is serving' })
  @ApiZodResponse(200, 'Liveness', LivenessSchema)
  liveness() {
    return { status: 'ok' as const };
  }

  @Get('readyz')
  @ApiOperation({
    operationId: 'readiness',
    summary: 'Readiness: the database takes a write and the broker carries ingest',
  })
  @ApiZodResponse(200, 'Readiness', ReadinessSchema)
  @ApiZodResponse(503, 'Readiness', ReadinessSchema, 'Not ready')
  async readiness(@Res() reply: FastifyReply) {
    const result = await this.health.readiness();
    return reply.status(result.status === 'ok' ? 200 : 503).send(result);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  AssignmentAcceptedDtoSchema,
  AssignmentCreateRequestSchema,
  AssignmentDtoSchema,
  AssignmentJobDtoSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { Roles } from '../auth/auth.decorators.js';
import { AgentsService } from './agents.service.js';
import { AssignmentJobsService } from './assignment-jobs.service.js';

@ApiTags('assignments')
@ApiSignedIn()
@Controller('api/v1/assignments')
export class AssignmentsController {
  constructor(private readonly agents: AgentsService) {}

  @Get()
  @ApiOperation({ operationId: 'listAssignments', summary: 'Every assignment of an agent to boxes' })
  @ApiZodResponse(200, 'AssignmentDtoList', z.array(AssignmentDtoSchema))
  list() {
    return this.agents.listAssignments();
  }

  @Post()
  @Roles('operator')
  @ApiOperation({
    operationId: 'createAssignment',
    summary:
      'Assign an agent to a box, a tag or every box (operator): 202 with the job delivering it to the boxes ' +
      '(follow it with getAssignmentJob); the same one again returns it with 200 and no job',
  })
  @ApiZodBody('AssignmentCreateRequest', AssignmentCreateRequestSchema)
  @ApiZodResponse(202, 'AssignmentAcceptedDto', AssignmentAcceptedDtoSchema, 'Stored; the job delivers it')
  @ApiZodResponse(200, 'AssignmentAcceptedDto', AssignmentAcceptedDtoSchema, 'Already assigned (job null)')
  @ApiErrors(400, 404)
  async create(
    @Body(new ZodValidationPipe(AssignmentCreateRequestSchema))
    body: z.output<typeof AssignmentCreateRequestSchema>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { created, assignment } = await this.agents.assign(body);
    void reply.status(created ? 202 : 200);
    return assignment;
  }

  @Delete(':id')
  @Roles('operator')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteAssignment',
    summary: 'Remove an assignment; boxes it reached drop the agent (operator)',
  })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(400, 404)
  remove(@Param('id', new ZodValidationPipe(z.uuid())) id: string) {
    return this.agents.unassign(id);
  }
}

@ApiTags('assignments')
@ApiSignedIn()
@Controller('api/v1/assignment-jobs')
export class AssignmentJobsController {
  constructor(private readonly jobs: AssignmentJobsService) {}

  @Get(':id')
  @ApiOperation({
    operationId: 'getAssignmentJob',
    summary: 'The delivery of a new assignment to its boxes: running, then done (or failed), with counts',
  })
  @ApiZodResponse(200, 'AssignmentJobDto', AssignmentJobDtoSchema)
  @ApiErrors(400, 404)
  get(@Param('id', new ZodValidationPipe(z.uuid())) id: string) {
    return this.jobs.get(id);
  }
}

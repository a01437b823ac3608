import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  AgentCreateRequestSchema,
  AgentDtoSchema,
  AgentIdSchema,
  AgentTaskRequestSchema,
  AgentTaskResponseSchema,
  AgentUpdateRequestSchema,
  AgentVersionDtoSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { Roles } from '../auth/auth.decorators.js';
import { AgentTasksService } from './agent-tasks.service.js';
import { AgentsService } from './agents.service.js';

export const AgentIdPipe = new ZodValidationPipe(AgentIdSchema);

@ApiTags('agents')
@ApiSignedIn()
@Controller('api/v1/agents')
export class AgentsController {
  constructor(
    private readonly agents: AgentsService,
    private readonly tasks: AgentTasksService,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'listAgents', summary: 'Agents at their latest version, with assignments' })
  @ApiZodResponse(200, 'AgentDtoList', z.array(AgentDtoSchema))
  list() {
    return this.agents.list();
  }

  @Post()
  @Roles('operator')
  @ApiOperation({ operationId: 'createAgent', summary: 'Define an agent, version 1 (operator)' })
  @ApiZodBody('AgentCreateRequest', AgentCreateRequestSchema)
  @ApiZodResponse(201, 'AgentDto', AgentDtoSchema)
  @ApiErrors(400, 409)
  create(
    @Body(new ZodValidationPipe(AgentCreateRequestSchema)) body: z.output<typeof AgentCreateRequestSchema>,
  ) {
    return this.agents.create(body);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getAgent', summary: 'One agent at its latest version' })
  @ApiZodResponse(200, 'AgentDto', AgentDtoSchema)
  @ApiErrors(400, 404)
  get(@Param('id', AgentIdPipe) id: string) {
    return this.agents.get(id);
  }

  @Put(':id')
  @Roles('operator')
  @ApiOperation({
    operationId: 'updateAgent',
    summary: 'Replace the definition: a new version, delivered to every box it is assigned to (operator)',
  })
  @ApiZodBody('AgentUpdateRequest', AgentUpdateRequestSchema)
  @ApiZodResponse(200, 'AgentDto', AgentDtoSchema)
  @ApiErrors(400, 404)
  update(
    @Param('id', AgentIdPipe) id: string,
    @Body(new ZodValidationPipe(AgentUpdateRequestSchema)) body: z.output<typeof AgentUpdateRequestSchema>,
  ) {
    return this.agents.update(id, body.definition);
  }

  @Delete(':id')
  @Roles('operator')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteAgent',
    summary: 'Delete an agent and its assignments; boxes remove it (operator)',
  })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(400, 404)
  remove(@Param('id', AgentIdPipe) id: string) {
    return this.agents.remove(id);
  }

  @Get(':id/versions')
  @ApiOperation({ operationId: 'listAgentVersions', summary: 'Every version of an agent, newest first' })
  @ApiZodResponse(200, 'AgentVersionDtoList', z.array(AgentVersionDtoSchema))
  @ApiErrors(400, 404)
  versions(@Param('id', AgentIdPipe) id: string) {
    return this.agents.versionsOf(id);
  }

  @Post(':id/tasks')
  @Roles('operator')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'sendAgentTask',
    summary: 'Send a task to the agent on one box (agent.run command) and return the new run id (operator)',
  })
  @ApiZodBody('AgentTaskRequest', AgentTaskRequestSchema)
  @ApiZodResponse(202, 'AgentTaskResponse', AgentTaskResponseSchema)
  @ApiErrors(400, 404, 409, 504)
  task(
    @Param('id', AgentIdPipe) id: string,
    @Body(new ZodValidationPipe(AgentTaskRequestSchema)) body: z.output<typeof AgentTaskRequestSchema>,
  ) {
    return this.tasks.send(id, body.deviceId, body.input);
  }
}

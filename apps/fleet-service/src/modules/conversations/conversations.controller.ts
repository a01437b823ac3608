import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  ConversationCreateRequestSchema,
  type ConversationCreateRequest,
  ConversationDeletedSchema,
  ConversationDtoSchema,
  ConversationIdSchema,
  ConversationListDtoSchema,
  type ConversationListQuery,
  ConversationListQuerySchema,
  ConversationMessageListDtoSchema,
  ConversationMessageRequestSchema,
  type ConversationMessageRequest,
  ConversationMessageSentSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { CurrentUser, Roles, type AuthUser } from '../auth/auth.decorators.js';
import { ConversationsService } from './conversations.service.js';

const IdPipe = new ZodValidationPipe(ConversationIdSchema);

/** Viewers read conversations as they read runs; operators and admins chat and delete. */
@ApiTags('conversations')
@ApiSignedIn()
@Controller('api/v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  @Roles('operator')
  @ApiOperation({ operationId: 'createConversation', summary: 'Start a conversation with an agent on a box' })
  @ApiZodBody('ConversationCreateRequest', ConversationCreateRequestSchema)
  @ApiZodResponse(201, 'ConversationDto', ConversationDtoSchema)
  @ApiErrors(400, 404)
  create(
    @Body(new ZodValidationPipe(ConversationCreateRequestSchema)) body: ConversationCreateRequest,
    @CurrentUser() user: AuthUser,
  ) {
    return this.conversations.create(body, user);
  }

  @Get()
  @ApiOperation({
    operationId: 'listConversations',
    summary: 'Conversations, the most recently active first',
  })
  @ApiQuery({ name: 'agentId', required: false, type: String })
  @ApiQuery({ name: 'deviceId', required: false, type: String })
  @ApiZodResponse(200, 'ConversationListDto', ConversationListDtoSchema)
  @ApiErrors(400)
  list(@Query(new ZodValidationPipe(ConversationListQuerySchema)) query: ConversationListQuery) {
    return this.conversations.list(query);
  }

  @Get(':id/messages')
  @ApiOperation({
    operationId: 'listConversationMessages',
    summary: "A conversation's messages, oldest first; an answer appears when its run has ended",
  })
  @ApiZodResponse(200, 'ConversationMessageListDto', ConversationMessageListDtoSchema)
  @ApiErrors(400, 404)
  messages(@Param('id', IdPipe) id: string) {
    return this.conversations.messages(id);
  }

  @Post(':id/messages')
  @Roles('operator')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'sendConversationMessage',
    summary:
      'Send a message: the box runs the agent with the conversation so far (409 DEVICE_OFFLINE or TASK_REJECTED, 504 TASK_TIMEOUT)',
  })
  @ApiZodBody('ConversationMessageRequest', ConversationMessageRequestSchema)
  @ApiZodResponse(202, 'ConversationMessageSent', ConversationMessageSentSchema)
  @ApiErrors(400, 404, 409, 504)
  send(
    @Param('id', IdPipe) id: string,
    @Body(new ZodValidationPipe(ConversationMessageRequestSchema)) body: ConversationMessageRequest,
  ) {
    return this.conversations.send(id, body.text);
  }

  @Delete(':id')
  @Roles('operator')
  @ApiOperation({
    operationId: 'deleteConversation',
    summary: 'Delete a conversation here, and on its box when the box is online',
  })
  @ApiZodResponse(200, 'ConversationDeleted', ConversationDeletedSchema)
  @ApiErrors(400, 404)
  remove(@Param('id', IdPipe) id: string) {
    return this.conversations.remove(id);
  }

  @Get(':id/export')
  @ApiOperation({ operationId: 'exportConversation', summary: 'The conversation as a Markdown transcript' })
  @ApiProduces('text/markdown')
  @ApiResponse({
    status: 200,
    description: 'Markdown: a heading, the agent and box, then each message under who said it',
    content: { 'text/markdown': { schema: { type: 'string' } } },
  })
  // 401 again here, so that ApiProduces documents it as text/markdown like every other response of the route.
  @ApiErrors(400, 401, 404)
  async export(@Param('id', IdPipe) id: string, @Res() reply: FastifyReply): Promise<void> {
    const { filename, body } = await this.conversations.exportMarkdown(id);
    await reply
      .status(200)
      .header('content-type', 'text/markdown; charset=utf-8')
      .header('content-disposition', `attachment; filename="${filename}"`)
      .header('cache-control', 'no-store')
      .send(body);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  AlertingIdSchema,
  ChannelCreateRequestSchema,
  ChannelDtoSchema,
  ChannelUpdateRequestSchema,
  CreatedIdSchema,
  DeliveryListSchema,
  DeliveryOutcomeSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { Roles } from '../auth/auth.decorators.js';
import { ChannelsService } from './channels.service.js';
import { NotifierService } from './notifier.service.js';

const ChannelIdPipe = new ZodValidationPipe(AlertingIdSchema);

@ApiTags('alerts')
@ApiSignedIn()
@Controller('api/v1/notification-channels')
export class ChannelsController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly notifier: NotifierService,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'listNotificationChannels',
    summary: 'Notification channels (secrets never returned)',
  })
  @ApiZodResponse(200, 'ChannelDtoList', z.array(ChannelDtoSchema))
  list() {
    return this.channels.list();
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ operationId: 'createNotificationChannel', summary: 'Add a notification channel (admin)' })
  @ApiZodBody('ChannelCreateRequest', ChannelCreateRequestSchema)
  @ApiZodResponse(201, 'CreatedId', CreatedIdSchema)
  @ApiErrors(400)
  create(
    @Body(new ZodValidationPipe(ChannelCreateRequestSchema))
    body: z.output<typeof ChannelCreateRequestSchema>,
  ) {
    return this.channels.create(body);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getNotificationChannel', summary: 'One notification channel' })
  @ApiZodResponse(200, 'ChannelDto', ChannelDtoSchema)
  @ApiErrors(400, 404)
  get(@Param('id', ChannelIdPipe) id: string) {
    return this.channels.get(id);
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({
    operationId: 'updateNotificationChannel',
    summary: 'Change a channel (config.secret null removes the secret, absent keeps it) (admin)',
  })
  @ApiZodBody('ChannelUpdateRequest', ChannelUpdateRequestSchema)
  @ApiZodResponse(200, 'ChannelDto', ChannelDtoSchema)
  @ApiErrors(400, 404)
  update(
    @Param('id', ChannelIdPipe) id: string,
    @Body(new ZodValidationPipe(ChannelUpdateRequestSchema))
    body: z.output<typeof ChannelUpdateRequestSchema>,
  ) {
    return this.channels.update(id, body);
  }

  @Delete(':id')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteNotificationChannel',
    summary: 'Delete a channel no rule uses (admin)',
  })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(400, 404, 409)
  remove(@Param('id', ChannelIdPipe) id: string) {
    return this.channels.remove(id);
  }

  @Post(':id/test')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'testNotificationChannel',
    summary: 'Send a test notification now and return how the receiver answered (admin)',
  })
  @ApiZodResponse(200, 'DeliveryOutcome', DeliveryOutcomeSchema)
  @ApiErrors(400, 404)
  test(@Param('id', ChannelIdPipe) id: string) {
    return this.notifier.test(id);
  }

  @Get(':id/deliveries')
  @ApiOperation({
    operationId: 'listChannelDeliveries',
    summary: 'The latest deliveries to a channel, newest first',
  })
  @ApiZodResponse(200, 'DeliveryList', DeliveryListSchema)
  @ApiErrors(400, 404)
  async deliveries(@Param('id', ChannelIdPipe) id: string) {
    return { items: await this.notifier.recent(id) };
  }
}

import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretsModule } from '../secrets/secrets.module.js';
import { ChannelRow, DeliveryRow } from './channel.entity.js';
import { ChannelsController } from './channels.controller.js';
import { ChannelsService } from './channels.service.js';
import { NotifierService } from './notifier.service.js';

/** Notification channels (webhook, DingTalk, Feishu, WeCom, Slack, e-mail) and deliveries to them. */
@Module({
  imports: [TypeOrmModule.forFeature([ChannelRow, DeliveryRow]), SecretsModule],
  controllers: [ChannelsController],
  providers: [ChannelsService, NotifierService],
  exports: [ChannelsService, NotifierService],
})
export class NotificationsModule {}

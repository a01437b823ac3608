import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { AlertEvaluator } from './alert-evaluator.service.js';
import { AlertRulesController } from './alert-rules.controller.js';
import { AlertRulesService } from './alert-rules.service.js';
import { AlertTicker } from './alert-ticker.js';
import { AlertRow, AlertRuleRow, SilenceRow } from './alert.entity.js';
import { AlertsController, SilencesController } from './alerts.controller.js';
import { AlertsService } from './alerts.service.js';
import { SilencesService } from './silences.service.js';

/** Alert rules evaluated over the fleet by a single-leader ticker, alerts, silences (docs/architecture.md). */
@Module({
  imports: [TypeOrmModule.forFeature([AlertRuleRow, AlertRow, SilenceRow]), NotificationsModule],
  controllers: [AlertRulesController, AlertsController, SilencesController],
  providers: [AlertRulesService, AlertsService, SilencesService, AlertEvaluator, AlertTicker],
  exports: [AlertTicker],
})
export class AlertsModule {}

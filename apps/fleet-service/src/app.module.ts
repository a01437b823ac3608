import { Module, type DynamicModule } from '@nestjs/common';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { AlertsModule } from './modules/alerts/alerts.module.js';
import { AgentsModule } from './modules/agents/agents.module.js';
import { ApiKeysModule } from './modules/api-keys/api-keys.module.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { BrokerModule } from './modules/broker/broker.module.js';
import { ConsoleModule } from './modules/console/console.module.js';
import { ConversationsModule } from './modules/conversations/conversations.module.js';
import { DesiredStateModule } from './modules/desired-state/desired-state.module.js';
import { DevicesModule } from './modules/devices/devices.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { HooksModule } from './modules/hooks/hooks.module.js';
import { IngestModule } from './modules/ingest/ingest.module.js';
import { LiveModule } from './modules/live/live.module.js';
import { NotificationsModule } from './modules/notifications/notifications.module.js';
import { MetricsModule } from './modules/metrics/metrics.module.js';
import { ProvidersModule } from './modules/providers/providers.module.js';
import { ProvisioningModule } from './modules/provisioning/provisioning.module.js';
import { ReleasesModule } from './modules/releases/releases.module.js';
import { RolloutsModule } from './modules/rollouts/rollouts.module.js';
import { RunsModule } from './modules/runs/runs.module.js';
import { TelemetryModule } from './modules/telemetry/telemetry.module.js';
import { UsageModule } from './modules/usage/usage.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        MetricsModule,
        LiveModule,
        DatabaseModule,
        AuthModule,
        ApiKeysModule,
        DevicesModule,
        BrokerModule,
        IngestModule,
        TelemetryModule,
        DesiredStateModule,
        ProvisioningModule,
        ProvidersModule,
        AgentsModule,
        HooksModule,
        ConversationsModule,
        RunsModule,
        UsageModule,
        AuditModule,
        ReleasesModule,
        RolloutsModule,
        NotificationsModule,
        AlertsModule,
        HealthModule,
        // Last: its catch-all GET route is the SPA fallback.
        ConsoleModule,
      ],
      providers: [AllExceptionsFilter],
    };
  }
}

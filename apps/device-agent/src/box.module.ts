import { Module, type DynamicModule } from '@nestjs/common';
import { BoxService } from './box.service.js';
import { BoxConfig } from './config/box-config.js';
import { AgentsModule } from './modules/agents/agents.module.js';
import { SecretsModule } from './modules/agents/secrets/secrets.module.js';
import { CommandsModule } from './modules/commands/commands.module.js';
import { DesiredStateModule } from './modules/desired-state/desired-state.module.js';
import { IdentityModule } from './modules/identity/identity.module.js';
import { LinkModule } from './modules/link/link.module.js';
import { OtaModule } from './modules/ota/ota.module.js';
import { OutboxModule } from './modules/outbox/outbox.module.js';
import { RuntimeModule } from './modules/runtime/runtime.module.js';
import { SystemdModule } from './modules/systemd/systemd.module.js';
import { TelemetryModule } from './modules/telemetry/telemetry.module.js';

@Module({})
export class BoxModule {
  /** The root module, with the validated configuration available to every module. */
  static forConfig(config: BoxConfig): DynamicModule {
    return {
      module: BoxModule,
      global: true,
      imports: [
        RuntimeModule,
        IdentityModule,
        LinkModule,
        OutboxModule,
        TelemetryModule,
        DesiredStateModule,
        CommandsModule,
        SystemdModule,
        SecretsModule,
        AgentsModule,
        OtaModule,
      ],
      providers: [{ provide: BoxConfig, useValue: config }, BoxService],
      exports: [BoxConfig],
    };
  }
}

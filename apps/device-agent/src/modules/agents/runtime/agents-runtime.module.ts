import { Module } from '@nestjs/common';
import { OutboxModule } from '../../outbox/outbox.module.js';
import { SecretsModule } from '../secrets/secrets.module.js';
import { AgentsRuntime } from './agents-runtime.js';
import { AGENTS_RUNTIME_PROVIDERS } from './agents-runtime.providers.js';

/**
 * The agent runtime's parts. Loaded lazily by AgentsService.start (LazyModuleLoader), after
 * enrolment and the spool, since building it opens agents.db.
 */
@Module({
  imports: [OutboxModule, SecretsModule],
  providers: [...AGENTS_RUNTIME_PROVIDERS, AgentsRuntime],
  exports: [AgentsRuntime],
})
export class AgentsRuntimeModule {}

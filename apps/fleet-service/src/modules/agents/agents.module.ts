import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AGENT_FLEET } from '../../common/ports.js';
import { BrokerModule } from '../broker/broker.module.js';
import { DesiredStateModule } from '../desired-state/desired-state.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { ProvidersModule } from '../providers/providers.module.js';
import { AgentRow, AgentVersionRow } from './agent.entity.js';
import { AgentFleetService } from './agent-fleet.service.js';
import { AgentTasksService } from './agent-tasks.service.js';
import { AgentsController } from './agents.controller.js';
import { AgentsService } from './agents.service.js';
import { AssignmentRow } from './assignment.entity.js';
import { AssignmentsController } from './assignments.controller.js';
import { DeviceAgentsController } from './device-agents.controller.js';

/**
 * Agents with their versions, assignments, the agents and providers sections of every box's desired
 * state (AGENT_FLEET, common/ports.ts), and tasks sent to agents on boxes.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([AgentRow, AgentVersionRow, AssignmentRow]),
    ProvidersModule,
    DevicesModule,
    DesiredStateModule,
    BrokerModule,
  ],
  controllers: [AgentsController, AssignmentsController, DeviceAgentsController],
  providers: [
    AgentsService,
    AgentFleetService,
    AgentTasksService,
    { provide: AGENT_FLEET, useExisting: AgentFleetService },
  ],
  exports: [AgentFleetService, AGENT_FLEET],
})
export class AgentsModule {}

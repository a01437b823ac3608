import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BrokerModule } from '../broker/broker.module.js';
import { DesiredStateModule } from '../desired-state/desired-state.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { DevicesService } from '../devices/devices.service.js';
import { ProvidersModule } from '../providers/providers.module.js';
import { ProvidersService } from '../providers/providers.service.js';
import { RunsModule } from '../runs/runs.module.js';
import { AgentRow, AgentVersionRow } from './agent.entity.js';
import { AgentFleetService } from './agent-fleet.service.js';
import { AgentTasksService } from './agent-tasks.service.js';
import { AgentsController } from './agents.controller.js';
import { AgentsService } from './agents.service.js';
import { AssignmentRow } from './assignment.entity.js';
import { AssignmentJobsController, AssignmentsController } from './assignments.controller.js';
import { AssignmentJobRow } from './assignment-job.entity.js';
import { AssignmentJobsService } from './assignment-jobs.service.js';
import { DeviceAgentsController } from './device-agents.controller.js';

/**
 * Agents with their versions, assignments, the agents and providers sections of every box's desired
 * state, and tasks sent to agents on boxes.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([AgentRow, AgentVersionRow, AssignmentRow, AssignmentJobRow]),
    ProvidersModule,
    DevicesModule,
    DesiredStateModule,
    BrokerModule,
    RunsModule,
  ],
  controllers: [AgentsController, AssignmentsController, AssignmentJobsController, DeviceAgentsController],
  providers: [AgentsService, AgentFleetService, AgentTasksService, AssignmentJobsService],
  exports: [AgentFleetService, AgentsService, AgentTasksService],
})
export class AgentsModule implements OnModuleInit {
  constructor(
    private readonly devices: DevicesService,
    private readonly providers: ProvidersService,
    private readonly fleet: AgentFleetService,
  ) {}

  /** Devices and providers cannot depend on this module (it depends on them): it registers its reactions. */
  onModuleInit(): void {
    this.devices.retargeted.add((deviceIds) => this.fleet.refreshDevices(deviceIds));
    this.providers.changed.add((providerId) => this.fleet.providerChanged(providerId));
    this.providers.addUsageCheck((providerId) => this.fleet.agentsUsingProvider(providerId));
  }
}

import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import {
  type AgentCreateRequestSchema,
  type AgentDefinition,
  type AgentDto,
  type AgentVersionDto,
  type AssignmentAcceptedDto,
  type AssignmentCreateRequestSchema,
  type AssignmentDto,
} from '@agentbox/schemas';
import type { z } from 'zod';
import { DevicesService } from '../devices/devices.service.js';
import { ProvidersService } from '../providers/providers.service.js';
import { AgentRow, AgentVersionRow } from './agent.entity.js';
import { AgentFleetService } from './agent-fleet.service.js';
import { targetColumns, toAgentDto, toAgentVersionDto, toAssignmentDto } from './agents.dto.js';
import { AgentException } from './agents.exception.js';
import { AssignmentRow } from './assignment.entity.js';
import { AssignmentJobsService } from './assignment-jobs.service.js';

type AgentCreate = z.output<typeof AgentCreateRequestSchema>;
type AssignmentCreate = z.output<typeof AssignmentCreateRequestSchema>;

/** Agents (every change a new version, all versions kept) and their assignments to boxes. */
@Injectable()
export class AgentsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(AgentRow) private readonly agents: Repository<AgentRow>,
    @InjectRepository(AgentVersionRow) private readonly versions: Repository<AgentVersionRow>,
    @InjectRepository(AssignmentRow) private readonly assignments: Repository<AssignmentRow>,
    private readonly providers: ProvidersService,
    private readonly devices: DevicesService,
    private readonly fleet: AgentFleetService,
    private readonly jobs: AssignmentJobsService,
  ) {}

  async list(): Promise<AgentDto[]> {
    const [rows, assignments] = await Promise.all([
      this.agents.find({ order: { id: 'ASC' } }),
      this.assignments.find({ order: { createdAt: 'ASC', id: 'ASC' } }),
    ]);
    return rows.map((row) =>
      toAgentDto(
        row,
        assignments.filter((a) => a.agentId === row.id),
      ),
    );
  }

  async get(id: string): Promise<AgentDto> {
    const row = await this.require(id);
    return toAgentDto(row, await this.assignmentsOf(id));
  }

  async versionsOf(id: string): Promise<AgentVersionDto[]> {
    await this.require(id);
    const rows = await this.versions.find({ where: { agentId: id }, order: { version: 'DESC' } });
    return rows.map(toAgentVersionDto);
  }

  async create(body: AgentCreate): Promise<AgentDto> {
    await this.checkProviders(body.definition);
    if (await this.agents.existsBy({ id: body.id })) {
      throw new AgentException('AGENT_EXISTS', `Agent ${body.id} already exists`);
    }
    const now = new Date();
    const row: AgentRow = {
      id: body.id,
      version: 1,
      definition: body.definition,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(AgentRow, row);
        await manager.insert(AgentVersionRow, {
          agentId: row.id,
          version: 1,
          definition: row.definition,
          createdAt: now,
        });
      });
    } catch (error) {
      if (await this.agents.existsBy({ id: body.id })) {
        throw new AgentException('AGENT_EXISTS', `Agent ${body.id} already exists`);
      }
      throw error;
    }
    // A new agent has no assignments yet: no box changes.
    return toAgentDto(row, []);
  }

  async update(id: string, definition: AgentDefinition): Promise<AgentDto> {
    await this.checkProviders(definition);
    let row: AgentRow | undefined;
    // The version in the WHERE clause makes a concurrent update lose and retry instead of reusing a number.
    for (let attempt = 0; row === undefined && attempt < 5; attempt += 1) {
      row = await this.dataSource.transaction(async (manager) => {
        const current = await manager.findOneBy(AgentRow, { id });
        if (!current) throw new AgentException('AGENT_NOT_FOUND', `Agent ${id} not found`);
        const now = new Date();
        const version = current.version + 1;
        const result = await manager.update(
          AgentRow,
          { id, version: current.version },
          { version, definition, updatedAt: now },
        );
        if (!result.affected) return undefined;
        await manager.insert(AgentVersionRow, { agentId: id, version, definition, createdAt: now });
        return { ...current, version, definition, updatedAt: now };
      });
    }
    if (!row) throw new Error(`Agent ${id} kept changing under a concurrent update`);
    const assignments = await this.assignmentsOf(id);
    await this.fleet.refreshForAssignments(assignments);
    return toAgentDto(row, assignments);
  }

  async remove(id: string): Promise<void> {
    await this.require(id);
    const assignments = await this.assignmentsOf(id);
    await this.dataSource.transaction(async (manager) => {
      await manager.delete(AssignmentRow, { agentId: id });
      await manager.delete(AgentVersionRow, { agentId: id });
      await manager.delete(AgentRow, { id });
    });
    await this.fleet.refreshForAssignments(assignments);
  }

  // ------------------------------------------------------------------ assignments

  async listAssignments(): Promise<AssignmentDto[]> {
    return (await this.assignments.find({ order: { createdAt: 'ASC', id: 'ASC' } })).map(toAssignmentDto);
  }

  /**
   * Idempotent: the same agent and target give back the existing assignment (`created: false`, no job).
   * A new one is stored and handed to a job that delivers it to the boxes it reaches in the background.
   */
  async assign(body: AssignmentCreate): Promise<{ created: boolean; assignment: AssignmentAcceptedDto }> {
    await this.require(body.agentId);
    if (body.target.type === 'device') await this.devices.get(body.target.deviceId);
    const columns = targetColumns(body.target);
    const existing = await this.assignments.findOneBy({ agentId: body.agentId, ...columns });
    if (existing) return { created: false, assignment: { ...toAssignmentDto(existing), job: null } };
    const row: AssignmentRow = { id: randomUUID(), agentId: body.agentId, ...columns, createdAt: new Date() };
    try {
      await this.assignments.insert(row);
    } catch (error) {
      const raced = await this.assignments.findOneBy({ agentId: body.agentId, ...columns });
      if (raced) return { created: false, assignment: { ...toAssignmentDto(raced), job: null } };
      throw error;
    }
    const job = await this.jobs.start(row);
    return { created: true, assignment: { ...toAssignmentDto(row), job } };
  }

  async unassign(id: string): Promise<void> {
    const row = await this.assignments.findOneBy({ id });
    if (!row) throw new AgentException('ASSIGNMENT_NOT_FOUND', `Assignment ${id} not found`);
    await this.assignments.delete({ id });
    await this.fleet.refreshForAssignments([row]);
  }

  // ------------------------------------------------------------------ internals

  private assignmentsOf(agentId: string): Promise<AssignmentRow[]> {
    return this.assignments.find({ where: { agentId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  private async require(id: string): Promise<AgentRow> {
    const row = await this.agents.findOneBy({ id });
    if (!row) throw new AgentException('AGENT_NOT_FOUND', `Agent ${id} not found`);
    return row;
  }

  private async checkProviders(definition: AgentDefinition): Promise<void> {
    const known = new Set((await this.providers.all()).map((p) => p.id));
    const missing = [definition.model, ...definition.fallbacks]
      .map((ref) => ref.provider)
      .filter((provider) => !known.has(provider));
    if (missing.length > 0) {
      throw new AgentException(
        'AGENT_PROVIDER_UNKNOWN',
        `Unknown provider${missing.length > 1 ? 's' : ''} ${[...new Set(missing)].join(', ')}: define ${missing.length > 1 ? 'them' : 'it'} first`,
      );
    }
  }
}

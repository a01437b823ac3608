import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import {
  type AgentDefinition,
  type DesiredAgent,
  type DesiredProvider,
  type DeviceAgentDto,
  type ReportedAgent,
  ReportedAgentSchema,
} from '@agentbox/schemas';
import { sealSecret } from '@agentbox/sealed-secret';
import type { AgentFleetPort } from '../../common/ports.js';
import { DesiredStateService } from '../desired-state/desired-state.service.js';
import { DevicesService, type FleetTarget } from '../devices/devices.service.js';
import type { ProviderRow } from '../providers/provider.entity.js';
import { ProvidersService } from '../providers/providers.service.js';
import { AgentRow } from './agent.entity.js';
import { AssignmentRow } from './assignment.entity.js';

/** Boxes whose documents are recomposed at once after a change that touches many of them. */
const REFRESH_CONCURRENCY = 8;

interface Catalog {
  agents: Map<string, AgentRow>;
  assignments: AssignmentRow[];
  providers: Map<string, ProviderRow>;
}

/** Does this assignment put its agent on this box? */
export function assignmentMatches(
  assignment: Pick<AssignmentRow, 'targetType' | 'targetValue'>,
  device: Pick<FleetTarget, 'id' | 'tags'>,
): boolean {
  switch (assignment.targetType) {
    case 'all':
      return true;
    case 'device':
      return assignment.targetValue === device.id;
    case 'tag':
      return device.tags.includes(assignment.targetValue);
  }
}

export function providersOf(definition: AgentDefinition): string[] {
  return [definition.model, ...definition.fallbacks].map((ref) => ref.provider);
}

/**
 * Turns agents, assignments and providers into each box's desired state: `spec.agents` (its assigned
 * agents at their latest version) and `spec.providers` (the providers those agents use, API keys sealed to
 * the box's X25519 key). A box's document gets a new version only when what it is composed from changed.
 */
@Injectable()
export class AgentFleetService implements AgentFleetPort {
  private readonly logger = new Logger(AgentFleetService.name);

  constructor(
    @InjectRepository(AgentRow) private readonly agents: Repository<AgentRow>,
    @InjectRepository(AssignmentRow) private readonly assignments: Repository<AssignmentRow>,
    private readonly providers: ProvidersService,
    private readonly devices: DevicesService,
    private readonly desired: DesiredStateService,
  ) {}

  async refreshDevices(deviceIds?: readonly string[]): Promise<void> {
    const targets = await this.devices.fleetTargets(deviceIds);
    if (targets.length === 0) return;
    const catalog = await this.loadCatalog();
    await this.refreshTargets(targets, catalog);
  }

  /** Recomposes every box these assignments reach (before or after a change). */
  async refreshForAssignments(
    assignments: ReadonlyArray<Pick<AssignmentRow, 'targetType' | 'targetValue'>>,
  ): Promise<void> {
    if (assignments.length === 0) return;
    const all = await this.devices.fleetTargets();
    const targets = all.filter((device) => assignments.some((a) => assignmentMatches(a, device)));
    if (targets.length === 0) return;
    await this.refreshTargets(targets, await this.loadCatalog());
  }

  async providerChanged(providerId: string): Promise<void> {
    const users = new Set(await this.agentsUsingProvider(providerId));
    if (users.size === 0) return;
    const assignments = await this.assignments.find();
    await this.refreshForAssignments(assignments.filter((a) => users.has(a.agentId)));
  }

  async agentsUsingProvider(providerId: string): Promise<string[]> {
    const rows = await this.agents.find({ order: { id: 'ASC' } });
    return rows.filter((row) => providersOf(row.definition).includes(providerId)).map((row) => row.id);
  }

  /** Every agent the box should run, plus the ones it reports that it should not run any more. */
  async deviceAgents(deviceId: string): Promise<DeviceAgentDto[]> {
    await this.devices.get(deviceId);
    const state = await this.desired.get(deviceId);
    const desiredAgents = (state.desired?.spec.agents ?? []) as DesiredAgent[];
    const reportedRaw = (state.reported?.current.agents ?? {}) as Record<string, unknown>;
    const reported = new Map<string, ReportedAgent>();
    for (const [id, value] of Object.entries(reportedRaw)) {
      const parsed = ReportedAgentSchema.safeParse(value);
      if (parsed.success) reported.set(id, parsed.data);
    }
    const result: DeviceAgentDto[] = desiredAgents.map((agent) => ({
      agentId: agent.id,
      name: agent.definition.name,
      desiredVersion: agent.version,
      reported: reported.get(agent.id) ?? null,
    }));
    const desiredIds = new Set(desiredAgents.map((agent) => agent.id));
    const leftovers = [...reported.keys()].filter((id) => !desiredIds.has(id)).sort();
    if (leftovers.length > 0) {
      const known = new Map((await this.agents.find()).map((row) => [row.id, row.definition.name]));
      for (const id of leftovers) {
        result.push({
          agentId: id,
          name: known.get(id) ?? id,
          desiredVersion: null,
          reported: reported.get(id) ?? null,
        });
      }
    }
    return result;
  }

  /** The tokens per day the fleet may spend: tokensPerDay summed over every (agent, box) pair assigned. */
  async budgetPerDay(): Promise<number> {
    const [targets, catalog] = await Promise.all([this.devices.fleetTargets(), this.loadCatalog()]);
    let total = 0;
    for (const device of targets) {
      for (const agentId of this.agentIdsFor(device, catalog)) {
        total += catalog.agents.get(agentId)?.definition.budget.tokensPerDay ?? 0;
      }
    }
    return total;
  }

  // ------------------------------------------------------------------ composition

  private async loadCatalog(): Promise<Catalog> {
    const [agents, assignments, providers] = await Promise.all([
      this.agents.find(),
      this.assignments.find(),
      this.providers.all(),
    ]);
    return {
      agents: new Map(agents.map((row) => [row.id, row])),
      assignments,
      providers: new Map(providers.map((row) => [row.id, row])),
    };
  }

  private agentIdsFor(device: FleetTarget, catalog: Catalog): string[] {
    const ids = new Set<string>();
    for (const assignment of catalog.assignments) {
      if (catalog.agents.has(assignment.agentId) && assignmentMatches(assignment, device))
        ids.add(assignment.agentId);
    }
    return [...ids].sort();
  }

  private async refreshTargets(targets: FleetTarget[], catalog: Catalog): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const device = targets[next];
        next += 1;
        if (!device) continue;
        try {
          await this.refreshOne(device, catalog);
        } catch (error) {
          this.logger.error(`Composing the agents of ${device.id} failed: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(REFRESH_CONCURRENCY, targets.length) }, worker));
  }

  private async refreshOne(device: FleetTarget, catalog: Catalog): Promise<void> {
    const agents = this.agentIdsFor(device, catalog).flatMap((id) => {
      const row = catalog.agents.get(id);
      return row ? [row] : [];
    });
    const providerIds = [...new Set(agents.flatMap((row) => providersOf(row.definition)))].sort();
    const providers = providerIds.flatMap((id) => {
      const row = catalog.providers.get(id);
      return row ? [row] : [];
    });
    // Sealing is randomised, so the inputs (not the sealed output) decide whether anything changed.
    const fingerprint = createHash('sha256')
      .update(
        JSON.stringify({
          agents: agents.map((row) => [row.id, row.version]),
          providers: providers.map((row) => [row.id, row.version]),
          secretsKey: device.secretsKey,
        }),
      )
      .digest('hex');
    await this.desired.applyAgents(device.id, fingerprint, agents.length === 0, () => ({
      agents: agents.map((row): DesiredAgent => ({
        id: row.id,
        version: row.version,
        definition: row.definition,
      })),
      providers: providers.map((row) => this.desiredProvider(row, device)),
    }));
  }

  private desiredProvider(row: ProviderRow, device: FleetTarget): DesiredProvider {
    const provider: DesiredProvider = { id: row.id, version: row.version, baseUrl: row.baseUrl };
    const apiKey = device.secretsKey ? this.providers.apiKeyOf(row) : undefined;
    if (apiKey !== undefined && device.secretsKey) provider.apiKey = sealSecret(apiKey, device.secretsKey);
    return provider;
  }
}

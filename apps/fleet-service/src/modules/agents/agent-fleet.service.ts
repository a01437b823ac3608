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
import type { BulkProgress } from '../desired-state/desired-state-bulk.js';
import type { ComposeSections } from '../desired-state/desired-sections.js';
import { DesiredStateService } from '../desired-state/desired-state.service.js';
import { DevicesService, type FleetTarget } from '../devices/devices.service.js';
import type { ProviderRow } from '../providers/provider.entity.js';
import { ProvidersService } from '../providers/providers.service.js';
import { AgentRow } from './agent.entity.js';
import { AssignmentRow } from './assignment.entity.js';

/** One composition shared by every box reached by the same agents. */
interface Composition {
  agents: DesiredAgent[];
  providers: Array<{ row: ProviderRow; apiKey: string | undefined }>;
  /** Agent and provider ids and versions, the box-independent part of the fingerprint. */
  inputs: string;
}

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
export class AgentFleetService {
  private readonly logger = new Logger(AgentFleetService.name);

  constructor(
    @InjectRepository(AgentRow) private readonly agents: Repository<AgentRow>,
    @InjectRepository(AssignmentRow) private readonly assignments: Repository<AssignmentRow>,
    private readonly providers: ProvidersService,
    private readonly devices: DevicesService,
    private readonly desired: DesiredStateService,
  ) {}

  /** Recomposes the agents and providers sections of these boxes' desired state (every box when absent). */
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
    const targets = await this.targetsOf(assignments);
    if (targets.length === 0) return;
    await this.refreshTargets(targets, await this.loadCatalog());
  }

  /** The boxes these assignments reach now. */
  async targetsOf(
    assignments: ReadonlyArray<Pick<AssignmentRow, 'targetType' | 'targetValue'>>,
  ): Promise<FleetTarget[]> {
    if (assignments.length === 0) return [];
    const device =
      assignments.length === 1 && assignments[0]?.targetType === 'device' ? assignments[0] : null;
    // One box needs one row, not the whole fleet.
    const all = await this.devices.fleetTargets(device ? [device.targetValue] : undefined);
    return all.filter((target) => assignments.some((a) => assignmentMatches(a, target)));
  }

  /** Recomposes these boxes, reporting the cumulative counts as they settle (an assignment job). */
  async deliver(
    targets: readonly FleetTarget[],
    onProgress: (progress: BulkProgress) => void,
  ): Promise<BulkProgress> {
    if (targets.length === 0) return { written: 0, unchanged: 0, failed: 0 };
    return this.refreshTargets(targets, await this.loadCatalog(), onProgress);
  }

  /** Boxes running an agent that uses the provider get a new document. */
  async providerChanged(providerId: string): Promise<void> {
    const users = new Set(await this.agentsUsingProvider(providerId));
    if (users.size === 0) return;
    const assignments = await this.assignments.find();
    await this.refreshForAssignments(assignments.filter((a) => users.has(a.agentId)));
  }

  /** Ids of the agents whose model or fallbacks use the provider. */
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

  /**
   * Recomposes these boxes through one bulk write (docs/architecture.md, "Fan-out"): boxes reached by the
   * same agents share one composition (the agents list, the providers and their decrypted keys); only the
   * sealing of API keys and the fingerprint (both depend on the box's key) are per box.
   */
  private async refreshTargets(
    targets: readonly FleetTarget[],
    catalog: Catalog,
    onProgress?: (progress: BulkProgress) => void,
  ): Promise<BulkProgress> {
    const groups = new Map<string, Composition>();
    const entries = targets.map((device) => {
      const agentIds = this.agentIdsFor(device, catalog);
      const key = agentIds.join('\n');
      let group = groups.get(key);
      if (!group) {
        group = this.compose(agentIds, catalog);
        groups.set(key, group);
      }
      return { deviceId: device.id, compose: this.composer(device, group) };
    });
    const outcome = await this.desired.writeMany('agents', entries, onProgress);
    if (outcome.failed > 0) {
      this.logger.error(`The agents of ${outcome.failed} of ${targets.length} boxes were not updated`);
    }
    return outcome;
  }

  /** What every box reached by exactly these agents gets, before sealing. */
  private compose(agentIds: readonly string[], catalog: Catalog): Composition {
    const agents = agentIds.flatMap((id) => {
      const row = catalog.agents.get(id);
      return row ? [row] : [];
    });
    const providerIds = [...new Set(agents.flatMap((row) => providersOf(row.definition)))].sort();
    const providers = providerIds.flatMap((id) => {
      const row = catalog.providers.get(id);
      return row ? [{ row, apiKey: this.providers.apiKeyOf(row) }] : [];
    });
    return {
      agents: agents.map((row): DesiredAgent => ({
        id: row.id,
        version: row.version,
        definition: row.definition,
      })),
      providers,
      // Sealing is randomised, so the inputs (not the sealed output) decide whether anything changed.
      inputs: JSON.stringify({
        agents: agents.map((row) => [row.id, row.version]),
        providers: providers.map(({ row }) => [row.id, row.version]),
      }),
    };
  }

  /** The `agents` owner's write for one box of a group: nothing when its inputs did not change. */
  private composer(device: FleetTarget, group: Composition): ComposeSections {
    const fingerprint = createHash('sha256')
      .update(group.inputs)
      .update(JSON.stringify({ secretsKey: device.secretsKey }))
      .digest('hex');
    return (current) => {
      const composedFrom = current?.agentsFingerprint ?? null;
      if (composedFrom === fingerprint) return null;
      // A box that never had agents from the cloud is left alone while it has none.
      if (group.agents.length === 0 && composedFrom === null) return null;
      return {
        sections: {
          agents: group.agents,
          providers: group.providers.map((provider) => this.desiredProvider(provider, device)),
        },
        agentsFingerprint: fingerprint,
      };
    };
  }

  private desiredProvider(
    { row, apiKey }: Composition['providers'][number],
    device: FleetTarget,
  ): DesiredProvider {
    const provider: DesiredProvider = { id: row.id, version: row.version, baseUrl: row.baseUrl };
    if (apiKey !== undefined && device.secretsKey) provider.apiKey = sealSecret(apiKey, device.secretsKey);
    return provider;
  }
}

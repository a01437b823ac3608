import { isDeepStrictEqual } from 'node:util';
import type { DesiredAgent, DesiredProvider } from '@agentbox/schemas';
import type { InstalledAgent } from '../agents.contracts.js';

/** What the box should run, from `down/desired` spec.agents / spec.providers. */
export interface ReconcileTarget {
  /** Undefined: leave the installed agents as they are (a cloud that does not manage agents). */
  agents?: readonly DesiredAgent[];
  /** Undefined: leave the providers as they are. */
  providers?: readonly DesiredProvider[];
}

/** What the box runs now. */
export interface ReconcileCurrent {
  agents: ReadonlyMap<string, InstalledAgent>;
  providers: ReadonlyMap<string, DesiredProvider>;
}

export type ReconcileStep =
  | { action: 'set-provider'; provider: DesiredProvider; fromVersion?: number }
  | { action: 'install-agent'; agent: DesiredAgent }
  | { action: 'update-agent'; agent: DesiredAgent; fromVersion: number }
  | { action: 'remove-agent'; agentId: string; version: number }
  | { action: 'remove-provider'; providerId: string };

/** A stable identity for a step, so repeated failures of the same step can be counted. */
export function stepKey(step: ReconcileStep): string {
  switch (step.action) {
    case 'set-provider':
      return `set-provider:${step.provider.id}@${step.provider.version}`;
    case 'install-agent':
      return `install-agent:${step.agent.id}@${step.agent.version}`;
    case 'update-agent':
      return `update-agent:${step.agent.id}@${step.agent.version}`;
    case 'remove-agent':
      return `remove-agent:${step.agentId}`;
    case 'remove-provider':
      return `remove-provider:${step.providerId}`;
  }
}

/** For logs and reports: "install agent triage v3". */
export function describeStep(step: ReconcileStep): string {
  switch (step.action) {
    case 'set-provider':
      return `set provider ${step.provider.id} v${step.provider.version}`;
    case 'install-agent':
      return `install agent ${step.agent.id} v${step.agent.version}`;
    case 'update-agent':
      return `update agent ${step.agent.id} from v${step.fromVersion} to v${step.agent.version}`;
    case 'remove-agent':
      return `remove agent ${step.agentId} v${step.version}`;
    case 'remove-provider':
      return `remove provider ${step.providerId}`;
  }
}

/** The last entry per id wins, as it would when the document is read top to bottom. */
function byId<T extends { id: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.id, item]));
}

/**
 * The steps from `current` to `target`, in the order they should be applied: providers first (so an
 * agent installed next finds its model's provider), then agents removed (freeing their resources),
 * installed and updated, and providers no longer wanted last (after the agents that used them are gone).
 * An agent is updated when anything in it differs, not only the version, so a document edited
 * without a version bump still converges.
 */
export function computeSteps(target: ReconcileTarget, current: ReconcileCurrent): ReconcileStep[] {
  const steps: ReconcileStep[] = [];
  const wantedProviders = target.providers ? byId(target.providers) : undefined;
  if (wantedProviders) {
    for (const provider of wantedProviders.values()) {
      const held = current.providers.get(provider.id);
      if (!held) steps.push({ action: 'set-provider', provider });
      else if (!isDeepStrictEqual(held, provider))
        steps.push({ action: 'set-provider', provider, fromVersion: held.version });
    }
  }
  if (target.agents) {
    const wanted = byId(target.agents);
    for (const [id, installed] of current.agents) {
      if (!wanted.has(id)) steps.push({ action: 'remove-agent', agentId: id, version: installed.version });
    }
    for (const agent of wanted.values()) {
      const installed = current.agents.get(agent.id);
      if (!installed) steps.push({ action: 'install-agent', agent });
      else if (!isDeepStrictEqual(installed, agent))
        steps.push({ action: 'update-agent', agent, fromVersion: installed.version });
    }
  }
  if (wantedProviders) {
    for (const id of current.providers.keys()) {
      if (!wantedProviders.has(id)) steps.push({ action: 'remove-provider', providerId: id });
    }
  }
  return steps;
}

/** The state after one step; what applying it for real must amount to. */
export function applyStep(current: ReconcileCurrent, step: ReconcileStep): ReconcileCurrent {
  const { agents, providers } = current;
  switch (step.action) {
    case 'set-provider':
      return { agents, providers: new Map(providers).set(step.provider.id, step.provider) };
    case 'remove-provider':
      return { agents, providers: without(providers, step.providerId) };
    case 'install-agent':
    case 'update-agent':
      return { agents: new Map(agents).set(step.agent.id, step.agent), providers };
    case 'remove-agent':
      return { agents: without(agents, step.agentId), providers };
  }
}

/** A copy of `map` without `key`. */
function without<V>(map: ReadonlyMap<string, V>, key: string): Map<string, V> {
  const copy = new Map(map);
  copy.delete(key);
  return copy;
}

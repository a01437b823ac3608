import type { ReportedAgent } from '@agentbox/schemas';
import type { InstalledAgent } from '../agents.contracts.js';
import type { ReconcileStep } from '../reconciler/reconcile-steps.js';
import type { StepFailure } from '../reconciler/agent-reconciler.js';

export interface ReportedAgentsInput {
  installed: readonly InstalledAgent[];
  /** The supervisor's view: status, last run, queue, tokens today. */
  runtime: Readonly<Record<string, ReportedAgent>>;
  /** Reconcile steps still to apply. */
  pending: readonly ReconcileStep[];
  /** Failed steps, by step key. */
  failures: ReadonlyMap<string, StepFailure>;
  /** Why a provider cannot be used (its key could not be opened), by provider id. */
  providerProblem: (providerId: string) => string | undefined;
  /** Whether the box holds the provider at all. */
  hasProvider: (providerId: string) => boolean;
}

const DETAIL_MAX = 500;

/**
 * `up/state` current.agents: the supervisor's view of each installed agent, overridden where the
 * agent cannot work (its provider is unusable or missing, its installation keeps failing), plus the
 * agents still being installed.
 */
export function reportedAgents(input: ReportedAgentsInput): Record<string, ReportedAgent> {
  const out: Record<string, ReportedAgent> = {};
  const failureByAgent = new Map<string, StepFailure>();
  for (const failure of input.failures.values()) {
    const step = failure.step;
    if (step.action === 'install-agent' || step.action === 'update-agent')
      failureByAgent.set(step.agent.id, failure);
    else if (step.action === 'remove-agent') failureByAgent.set(step.agentId, failure);
  }
  for (const agent of input.installed) {
    const base: ReportedAgent = input.runtime[agent.id] ?? {
      version: agent.version,
      status: 'idle',
      queued: 0,
      tokensToday: 0,
    };
    const problems = providerProblems(agent, input);
    const failure = failureByAgent.get(agent.id);
    if (problems.length > 0) {
      out[agent.id] = { ...base, status: 'error', detail: problems.join('; ').slice(0, DETAIL_MAX) };
    } else if (failure) {
      out[agent.id] = {
        ...base,
        detail: `${failure.description} failed ${failure.failures}x: ${failure.message}`.slice(0, DETAIL_MAX),
      };
    } else {
      out[agent.id] = base;
    }
  }
  for (const step of input.pending) {
    if (step.action !== 'install-agent') continue;
    const failure = failureByAgent.get(step.agent.id);
    out[step.agent.id] = failure
      ? {
          version: step.agent.version,
          status: 'error',
          detail: `${failure.description} failed ${failure.failures}x: ${failure.message}`.slice(
            0,
            DETAIL_MAX,
          ),
          queued: 0,
          tokensToday: 0,
        }
      : { version: step.agent.version, status: 'installing', queued: 0, tokensToday: 0 };
  }
  return out;
}

function providerProblems(agent: InstalledAgent, input: ReportedAgentsInput): string[] {
  const problems: string[] = [];
  const missing: string[] = [];
  const providers = [
    ...new Set([agent.definition.model, ...agent.definition.fallbacks].map((m) => m.provider)),
  ];
  for (const providerId of providers) {
    const problem = input.providerProblem(providerId);
    if (problem) problems.push(problem);
    else if (!input.hasProvider(providerId)) missing.push(providerId);
  }
  // A missing fallback only narrows the choice; with no provider at all, no run can start.
  if (problems.length === 0 && missing.length === providers.length)
    problems.push(`provider ${missing.join(', ')} is not configured on this box`);
  return problems;
}

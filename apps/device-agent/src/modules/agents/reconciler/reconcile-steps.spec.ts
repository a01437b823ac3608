import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentDefinitionSchema, type DesiredAgent, type DesiredProvider } from '@agentbox/schemas';
import {
  applyStep,
  computeSteps,
  describeStep,
  type ReconcileCurrent,
  type ReconcileTarget,
} from './reconcile-steps.js';

const agent = (id: string, version: number, instructions = 'Summarise the logs.'): DesiredAgent => ({
  id,
  version,
  definition: AgentDefinitionSchema.parse({
    name: id,
    instructions,
    model: { provider: 'deepseek', model: 'deepseek-chat' },
  }),
});

const provider = (id: string, version: number, baseUrl = 'https://api.example.com/v1'): DesiredProvider => ({
  id,
  version,
  baseUrl,
});

const current = (agents: DesiredAgent[] = [], providers: DesiredProvider[] = []): ReconcileCurrent => ({
  agents: new Map(agents.map((a) => [a.id, a])),
  providers: new Map(providers.map((p) => [p.id, p])),
});

function applyAll(state: ReconcileCurrent, target: ReconcileTarget): ReconcileCurrent {
  return computeSteps(target, state).reduce(applyStep, state);
}

describe('computeSteps', () => {
  it('installs, updates and removes agents, providers first and unwanted providers last', () => {
    const steps = computeSteps(
      { agents: [agent('triage', 3), agent('digest', 2)], providers: [provider('deepseek', 2)] },
      current([agent('digest', 1), agent('old', 4)], [provider('deepseek', 1), provider('gone', 1)]),
    );
    expect(steps.map(describeStep)).toEqual([
      'set provider deepseek v2',
      'remove agent old v4',
      'install agent triage v3',
      'update agent digest from v1 to v2',
      'remove provider gone',
    ]);
  });

  it('has nothing to do when current equals desired', () => {
    const state = current([agent('a', 1)], [provider('p', 1)]);
    expect(computeSteps({ agents: [agent('a', 1)], providers: [provider('p', 1)] }, state)).toEqual([]);
  });

  it('leaves agents alone when spec.agents is absent, and removes them all when it is empty', () => {
    const state = current([agent('a', 1), agent('b', 2)]);
    expect(computeSteps({}, state)).toEqual([]);
    expect(computeSteps({ providers: [] }, state)).toEqual([]);
    expect(computeSteps({ agents: [] }, state).map(describeStep)).toEqual([
      'remove agent a v1',
      'remove agent b v2',
    ]);
  });

  it('updates an agent whose definition changed under the same version', () => {
    const steps = computeSteps({ agents: [agent('a', 1, 'New words.')] }, current([agent('a', 1)]));
    expect(steps.map(describeStep)).toEqual(['update agent a from v1 to v1']);
  });

  it('sets a provider again when its sealed key arrives', () => {
    const sealed = { alg: 'x25519-hkdf-sha256-aes256gcm' as const, epk: 'e', iv: 'i', ct: 'c', tag: 't' };
    const steps = computeSteps(
      { providers: [{ ...provider('p', 1), apiKey: sealed }] },
      current([], [provider('p', 1)]),
    );
    expect(steps).toEqual([
      { action: 'set-provider', provider: { ...provider('p', 1), apiKey: sealed }, fromVersion: 1 },
    ]);
  });
});

// ---------------------------------------------------------------- properties

const ids = ['a', 'b', 'c', 'd', 'e'];
const agentArb = fc
  .record({
    id: fc.constantFrom(...ids),
    version: fc.integer({ min: 1, max: 3 }),
    instructions: fc.constantFrom('One.', 'Two.'),
  })
  .map(({ id, version, instructions }) => agent(id, version, instructions));
const providerArb = fc
  .record({
    id: fc.constantFrom('p', 'q', 'r'),
    version: fc.integer({ min: 1, max: 3 }),
    baseUrl: fc.constantFrom('https://one.example/v1', 'http://127.0.0.1:11434/v1'),
  })
  .map(({ id, version, baseUrl }) => provider(id, version, baseUrl));
const uniqueAgents = fc.uniqueArray(agentArb, { selector: (a) => a.id, maxLength: 5 });
const uniqueProviders = fc.uniqueArray(providerArb, { selector: (p) => p.id, maxLength: 3 });
const currentArb = fc
  .record({ agents: uniqueAgents, providers: uniqueProviders })
  .map(({ agents, providers }) => current(agents, providers));
const targetArb = fc.record(
  { agents: uniqueAgents, providers: uniqueProviders },
  { requiredKeys: [] },
) as fc.Arbitrary<ReconcileTarget>;

const sorted = <T extends { id: string }>(items: Iterable<T>) =>
  [...items].sort((x, y) => x.id.localeCompare(y.id));

describe('computeSteps (properties)', () => {
  it('applying the computed steps to current always reaches desired, and then nothing is left', () => {
    fc.assert(
      fc.property(currentArb, targetArb, (state, target) => {
        const reached = applyAll(state, target);
        expect(sorted(reached.agents.values())).toEqual(sorted(target.agents ?? state.agents.values()));
        expect(sorted(reached.providers.values())).toEqual(
          sorted(target.providers ?? state.providers.values()),
        );
        expect(computeSteps(target, reached)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it("one step at a time, recomputing after each, converges in at most the first plan's number of steps", () => {
    fc.assert(
      fc.property(currentArb, targetArb, (state, target) => {
        const planned = computeSteps(target, state).length;
        let now = state;
        for (let applied = 0; applied <= planned; applied++) {
          const next = computeSteps(target, now)[0];
          if (!next) return;
          now = applyStep(now, next);
        }
        throw new Error('did not converge');
      }),
      { numRuns: 500 },
    );
  });

  it('never removes a provider before the agent steps, never installs an agent before a provider is set', () => {
    fc.assert(
      fc.property(currentArb, targetArb, (state, target) => {
        const actions = computeSteps(target, state).map((step) => step.action);
        const lastSet = actions.lastIndexOf('set-provider');
        const firstAgent = actions.findIndex((a) => a.endsWith('-agent'));
        const lastAgent = actions.findLastIndex((a) => a.endsWith('-agent'));
        const firstRemoveProvider = actions.indexOf('remove-provider');
        if (firstAgent >= 0) expect(lastSet).toBeLessThan(firstAgent);
        if (firstRemoveProvider >= 0) expect(firstRemoveProvider).toBeGreaterThan(lastAgent);
      }),
      { numRuns: 300 },
    );
  });

  it('an absent section never produces a step for it', () => {
    fc.assert(
      fc.property(currentArb, uniqueProviders, (state, providers) => {
        expect(computeSteps({ providers }, state).every((s) => !s.action.endsWith('-agent'))).toBe(true);
      }),
    );
  });
});

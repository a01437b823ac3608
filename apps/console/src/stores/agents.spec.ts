// @vitest-environment node
import {
  AgentCreateRequestSchema,
  AgentDefinitionSchema,
  AgentTaskRequestSchema,
  AgentUpdateRequestSchema,
  AssignmentCreateRequestSchema,
  type AgentDefinition,
} from '@agentbox/schemas';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { Agent, Assignment } from '@/api/types';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { useAgentsStore } from './agents';

const invalid = (message: string) => ({
  status: 400,
  body: { statusCode: 400, code: 'VALIDATION_FAILED', message },
});

describe('agents store', () => {
  let server: FleetServer;
  let agents: Record<string, Agent>;
  let history: Record<string, { version: number; definition: AgentDefinition; createdAt: string }[]>;
  let assignments: Assignment[];
  let nextAssignment: number;
  let online: Set<string>;

  useFleetServer((fleet) => {
    agents = {};
    history = {};
    assignments = [];
    nextAssignment = 1;
    online = new Set(['box-1']);
    server = fleet;
    const withAssignments = (agent: Agent): Agent => ({
      ...agent,
      assignments: assignments.filter((a) => a.agentId === agent.id),
    });
    server.route('GET', '/api/v1/agents', () => ({
      status: 200,
      body: Object.values(agents).map(withAssignments),
    }));
    // Bodies are checked with the same schemas the fleet service validates with.
    server.route('POST', '/api/v1/agents', (_req, _url, body) => {
      const parsed = AgentCreateRequestSchema.safeParse(JSON.parse(body));
      if (!parsed.success) return invalid(parsed.error.message);
      const { id, definition } = parsed.data;
      if (agents[id]) return { status: 409, body: { statusCode: 409, code: 'AGENT_EXISTS', message: id } };
      const now = new Date().toISOString();
      agents[id] = { id, version: 1, definition, createdAt: now, updatedAt: now, assignments: [] };
      history[id] = [{ version: 1, definition, createdAt: now }];
      return { status: 201, body: agents[id] };
    });
    for (const id of ['daily-report', 'gone']) {
      server.route('GET', `/api/v1/agents/${id}`, () =>
        agents[id]
          ? { status: 200, body: withAssignments(agents[id]) }
          : { status: 404, body: { statusCode: 404, code: 'AGENT_NOT_FOUND', message: id } },
      );
      server.route('PUT', `/api/v1/agents/${id}`, (_req, _url, body) => {
        const parsed = AgentUpdateRequestSchema.safeParse(JSON.parse(body));
        if (!parsed.success) return invalid(parsed.error.message);
        const current = agents[id]!;
        const now = new Date().toISOString();
        agents[id] = {
          ...current,
          version: current.version + 1,
          definition: parsed.data.definition,
          updatedAt: now,
        };
        history[id]!.unshift({
          version: agents[id].version,
          definition: parsed.data.definition,
          createdAt: now,
        });
        return { status: 200, body: withAssignments(agents[id]) };
      });
      server.route('GET', `/api/v1/agents/${id}/versions`, () => ({ status: 200, body: history[id] ?? [] }));
      server.route('DELETE', `/api/v1/agents/${id}`, () => {
        delete agents[id];
        assignments = assignments.filter((a) => a.agentId !== id);
        return { status: 204 };
      });
      server.route('POST', `/api/v1/agents/${id}/tasks`, (_req, _url, body) => {
        const parsed = AgentTaskRequestSchema.safeParse(JSON.parse(body));
        if (!parsed.success) return invalid(parsed.error.message);
        if (!online.has(parsed.data.deviceId))
          return { status: 409, body: { statusCode: 409, code: 'DEVICE_OFFLINE', message: 'offline' } };
        return { status: 202, body: { runId: 'run-00000001', commandId: 'cmd-1' } };
      });
    }
    server.route('POST', '/api/v1/assignments', (_req, _url, body) => {
      const parsed = AssignmentCreateRequestSchema.safeParse(JSON.parse(body));
      if (!parsed.success) return invalid(parsed.error.message);
      const same = assignments.find(
        (a) =>
          a.agentId === parsed.data.agentId &&
          JSON.stringify(a.target) === JSON.stringify(parsed.data.target),
      );
      if (same) return { status: 200, body: { ...same, job: null } };
      const assignment = {
        id: `as-${nextAssignment++}`,
        ...parsed.data,
        createdAt: new Date().toISOString(),
      };
      assignments.push(assignment);
      const job = {
        id: `00000000-0000-4000-8000-00000000000${nextAssignment}`,
        assignmentId: assignment.id,
        agentId: assignment.agentId,
        target: assignment.target,
        state: 'running',
        total: 3,
        done: 0,
        failed: 0,
        error: null,
        createdAt: assignment.createdAt,
        finishedAt: null,
      };
      // Each read of the job finds one more box done, until all three are.
      let reads = 0;
      server.route('GET', `/api/v1/assignment-jobs/${job.id}`, () => {
        reads += 1;
        const done = Math.min(reads, 3);
        return {
          status: 200,
          body: {
            ...job,
            done,
            state: done === 3 ? 'done' : 'running',
            finishedAt: done === 3 ? job.createdAt : null,
          },
        };
      });
      return { status: 202, body: { ...assignment, job } };
    });
    for (const id of ['as-1', 'as-2', 'as-3']) {
      server.route('DELETE', `/api/v1/assignments/${id}`, () => {
        const before = assignments.length;
        assignments = assignments.filter((a) => a.id !== id);
        return before === assignments.length
          ? { status: 404, body: { statusCode: 404, code: 'ASSIGNMENT_NOT_FOUND', message: id } }
          : { status: 204 };
      });
    }
  });

  // What the agent form hands over: a definition parsed with the shared schema, defaults filled.
  const definition = AgentDefinitionSchema.parse({
    name: 'Daily report',
    instructions: 'Summarise the box health.',
    model: { provider: 'deepseek', model: 'deepseek-chat' },
  });

  it('creates an agent that the server accepts and fills with defaults', async () => {
    const sut = useAgentsStore();
    const agent = await sut.create('daily-report', definition);
    expect(agent.version).toBe(1);
    expect(sut.get('daily-report')?.definition.budget).toEqual({
      tokensPerDay: 200_000,
      tokensPerRun: 20_000,
    });
    expect(sut.nameOf('daily-report')).toBe('Daily report');
    expect(sut.nameOf('unknown-agent')).toBe('unknown-agent');
    await expect(sut.create('daily-report', definition)).rejects.toMatchObject({ code: 'AGENT_EXISTS' });
  });

  it('saves new versions and keeps the version history in step', async () => {
    const sut = useAgentsStore();
    await sut.create('daily-report', definition);
    await sut.fetchVersions('daily-report');
    await sut.update('daily-report', { ...definition, instructions: 'Be brief.' });
    expect(sut.get('daily-report')?.version).toBe(2);
    expect(sut.versions['daily-report']?.map((v) => v.version)).toEqual([2, 1]);
    expect(sut.versions['daily-report']?.[0]?.definition.instructions).toBe('Be brief.');
  });

  it('assigns idempotently, unassigns, and counts assignments for the getting-started steps', async () => {
    const sut = useAgentsStore();
    await sut.create('daily-report', definition);
    await sut.assign('daily-report', { type: 'tag', tag: 'lab' });
    await sut.assign('daily-report', { type: 'tag', tag: 'lab' });
    await sut.assign('daily-report', { type: 'device', deviceId: 'box-1' });
    expect(sut.get('daily-report')?.assignments.map((a) => a.target.type)).toEqual(['tag', 'device']);
    expect(sut.assignmentCount).toBe(2);

    await sut.unassign('daily-report', 'as-1');
    // Someone else removed it already: still gone here, no error.
    await sut.unassign('daily-report', 'as-1');
    expect(sut.get('daily-report')?.assignments.map((a) => a.id)).toEqual(['as-2']);

    setActivePinia(createPinia());
    const fresh = useAgentsStore();
    await fresh.fetchAll();
    expect(fresh.get('daily-report')?.assignments.map((a) => a.id)).toEqual(['as-2']);
  });

  it('follows the job of a new assignment until every box has it', async () => {
    const sut = useAgentsStore();
    await sut.create('daily-report', definition);
    const accepted = await sut.assign('daily-report', { type: 'all' });
    expect(accepted.job).toMatchObject({ state: 'running', total: 3, done: 0 });
    expect(sut.get('daily-report')?.assignments[0]).not.toHaveProperty('job');
    const done = await sut.followJob(accepted.job!.id);
    expect(done).toMatchObject({ state: 'done', done: 3, failed: 0 });
    expect(sut.jobs[accepted.job!.id]?.state).toBe('done');
    // The same assignment again: no job to follow.
    expect((await sut.assign('daily-report', { type: 'all' })).job).toBeNull();
  });

  it('sends a task and reports an offline box with its code', async () => {
    const sut = useAgentsStore();
    await sut.create('daily-report', definition);
    await expect(sut.sendTask('daily-report', 'box-1', 'How is the disk?')).resolves.toEqual({
      runId: 'run-00000001',
      commandId: 'cmd-1',
    });
    await expect(sut.sendTask('daily-report', 'box-2', 'How is the disk?')).rejects.toMatchObject({
      code: 'DEVICE_OFFLINE',
      statusCode: 409,
    });
  });

  it('forgets an agent the server no longer knows, and a deleted one', async () => {
    const sut = useAgentsStore();
    await sut.create('daily-report', definition);
    await sut.remove('daily-report');
    expect(sut.get('daily-report')).toBeUndefined();

    await sut.create('gone', { ...definition, name: 'Gone' });
    delete agents.gone;
    await expect(sut.fetchOne('gone')).resolves.toBeNull();
    expect(sut.count).toBe(0);
  });
});

import type { AgentDefinition, AssignmentTarget } from '@agentbox/schemas';
import { sleep } from '@agentbox/retry';
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '@/api/client';
import { isNotFound, unwrap } from '@/api/errors';
import type {
  Agent,
  AgentVersion,
  Assignment,
  AssignmentAccepted,
  AssignmentJob,
  TaskAccepted,
} from '@/api/types';
import { useById, useFetchState } from '@/stores/request-state';

/** How often a running assignment job is read again. */
export const JOB_POLL_MS = 500;

/** Agents of the fleet with their assignments, version history and the "send task" action. */
export const useAgentsStore = defineStore(
  'agents',
  () => {
    const { byId, get, upsert, drop: dropAgent, replaceAll, clear } = useById<Agent>();
    const versions = ref<Record<string, AgentVersion[]>>({});
    /** Jobs delivering new assignments to their boxes, as last read, by job id. */
    const jobs = ref<Record<string, AssignmentJob>>({});
    const { loaded, loading, error, track, forget } = useFetchState();

    const all = computed(() =>
      Object.values(byId.value).sort(
        (a, b) => a.definition.name.localeCompare(b.definition.name) || a.id.localeCompare(b.id),
      ),
    );
    const count = computed(() => all.value.length);
    const assignmentCount = computed(() =>
      all.value.reduce((sum, agent) => sum + agent.assignments.length, 0),
    );

    /** The agent's name, or its id while the list is not loaded (or it was deleted). */
    function nameOf(id: string): string {
      return byId.value[id]?.definition.name ?? id;
    }

    function drop(id: string): void {
      dropAgent(id);
      const { [id]: _history, ...others } = versions.value;
      versions.value = others;
    }

    async function fetchAll(): Promise<void> {
      await track(async () => {
        const list = await unwrap(api().GET('/api/v1/agents'));
        replaceAll(list);
      });
    }

    /** The agent, or null when the fleet service does not know it. */
    async function fetchOne(id: string): Promise<Agent | null> {
      try {
        const agent = await unwrap(api().GET('/api/v1/agents/{id}', { params: { path: { id } } }));
        upsert(agent);
        return agent;
      } catch (caught) {
        if (isNotFound(caught)) {
          drop(id);
          return null;
        }
        throw caught;
      }
    }

    async function create(id: string, definition: AgentDefinition): Promise<Agent> {
      const agent = await unwrap(api().POST('/api/v1/agents', { body: { id, definition } }));
      upsert(agent);
      return agent;
    }

    /** Saves a new version: the whole definition, never a patch. */
    async function update(id: string, definition: AgentDefinition): Promise<Agent> {
      const agent = await unwrap(
        api().PUT('/api/v1/agents/{id}', { params: { path: { id } }, body: { definition } }),
      );
      upsert(agent);
      if (versions.value[id]) await fetchVersions(id);
      return agent;
    }

    async function remove(id: string): Promise<void> {
      await unwrap(api().DELETE('/api/v1/agents/{id}', { params: { path: { id } } }));
      drop(id);
    }

    async function fetchVersions(id: string): Promise<AgentVersion[]> {
      const list = await unwrap(api().GET('/api/v1/agents/{id}/versions', { params: { path: { id } } }));
      versions.value = { ...versions.value, [id]: list };
      return list;
    }

    function setAssignments(agentId: string, assignments: Assignment[]): void {
      const agent = byId.value[agentId];
      if (agent) upsert({ ...agent, assignments });
    }

    /** A new assignment answers at once with the job delivering it (follow it with `followJob`). */
    async function assign(agentId: string, target: AssignmentTarget): Promise<AssignmentAccepted> {
      const accepted = await unwrap(api().POST('/api/v1/assignments', { body: { agentId, target } }));
      const { job, ...assignment } = accepted;
      const current = byId.value[agentId]?.assignments ?? [];
      // Idempotent on the server: the same agent and target come back as the existing assignment.
      setAssignments(agentId, [...current.filter((a) => a.id !== assignment.id), assignment]);
      if (job) jobs.value = { ...jobs.value, [job.id]: job };
      return accepted;
    }

    /**
     * Reads the job again every JOB_POLL_MS until it is no longer running (or `signal` aborts); each read
     * lands in `jobs`. Returns the last one read.
     */
    async function followJob(jobId: string, signal?: AbortSignal): Promise<AssignmentJob | undefined> {
      let job = jobs.value[jobId];
      while (job?.state !== 'done' && job?.state !== 'failed') {
        if (job && !(await sleep(JOB_POLL_MS, signal))) break;
        job = await unwrap(api().GET('/api/v1/assignment-jobs/{id}', { params: { path: { id: jobId } } }));
        jobs.value = { ...jobs.value, [jobId]: job };
      }
      return job;
    }

    async function unassign(agentId: string, assignmentId: string): Promise<void> {
      try {
        await unwrap(api().DELETE('/api/v1/assignments/{id}', { params: { path: { id: assignmentId } } }));
      } catch (caught) {
        // Already gone is what we wanted.
        if (!isNotFound(caught)) throw caught;
      }
      const current = byId.value[agentId]?.assignments ?? [];
      setAssignments(
        agentId,
        current.filter((a) => a.id !== assignmentId),
      );
    }

    async function sendTask(agentId: string, deviceId: string, input: string): Promise<TaskAccepted> {
      return unwrap(
        api().POST('/api/v1/agents/{id}/tasks', {
          params: { path: { id: agentId } },
          body: { deviceId, input },
        }),
      );
    }

    function reset(): void {
      clear();
      versions.value = {};
      jobs.value = {};
      forget();
    }

    return {
      byId,
      versions,
      jobs,
      loaded,
      loading,
      error,
      all,
      count,
      assignmentCount,
      get,
      nameOf,
      fetchAll,
      fetchOne,
      create,
      update,
      remove,
      fetchVersions,
      assign,
      followJob,
      unassign,
      sendTask,
      reset,
    };
  },
  { plumbing: { reset: (store) => store.reset() } },
);

import type { DataSource } from 'typeorm';
import type { AlertKind, AlertTarget } from '@agentbox/schemas';
import type { AlertParams } from './alert-state.js';

/** A box as the evaluation sees it. */
export interface FleetBox {
  id: string;
  name: string;
  tags: string[];
}

/** Telemetry older than this is no evidence of a threshold crossed now. */
const METRIC_WINDOW_MS = 10 * 60_000;

/** What every condition of one evaluation reads: one set-based query per kind in use, never one per box. */
export interface FleetFacts {
  boxes: FleetBox[];
  /** Offline boxes, with when they were last seen. */
  offline: Map<string, Date | null>;
  /** The latest sample of each box within METRIC_WINDOW_MS. */
  latestMetrics: Map<string, Record<string, number>>;
  /** Per box, the agents reported in each runtime status that alerts watch. */
  agentsByStatus: Map<string, { 'crash-looping': string[]; 'budget-exhausted': string[] }>;
  /** Boxes whose latest update report is a failure: version and status. */
  failedUpdates: Map<string, { version: string; status: string }>;
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return null;
  }
}

/** Reads the facts the given kinds need. */
export async function readFleetFacts(
  dataSource: DataSource,
  kinds: ReadonlySet<AlertKind>,
  now: number,
): Promise<FleetFacts> {
  const postgres = dataSource.options.type === 'postgres';
  const p = (n: number) => (postgres ? `$${n}` : '?');
  const boxRows = await dataSource.query<
    Array<{ id: string; name: string; tags: unknown; online: unknown; last_seen_at: unknown }>
  >('SELECT id, name, tags, online, last_seen_at FROM devices');
  const facts: FleetFacts = {
    boxes: [],
    offline: new Map(),
    latestMetrics: new Map(),
    agentsByStatus: new Map(),
    failedUpdates: new Map(),
  };
  for (const row of boxRows) {
    const tags = parseJson(row.tags);
    facts.boxes.push({ id: row.id, name: row.name, tags: Array.isArray(tags) ? (tags as string[]) : [] });
    const online = row.online === true || row.online === 1;
    if (!online) {
      facts.offline.set(row.id, seenAt(row.last_seen_at));
    }
  }

  if (kinds.has('metric-threshold')) {
    // The newest sample of every box at once: the (device_id, ts) index serves both the max and the join.
    const rows = await dataSource.query<Array<{ device_id: string; values: unknown }>>(
      `SELECT t.device_id, t."values" FROM telemetry_samples t
       JOIN (SELECT device_id, MAX(ts) AS ts FROM telemetry_samples WHERE ts > ${p(1)} GROUP BY device_id) m
         ON m.device_id = t.device_id AND m.ts = t.ts`,
      [now - METRIC_WINDOW_MS],
    );
    for (const row of rows) {
      const values = parseJson(row.values);
      if (values && typeof values === 'object') {
        facts.latestMetrics.set(row.device_id, {
          ...facts.latestMetrics.get(row.device_id),
          ...(values as Record<string, number>),
        });
      }
    }
  }

  if (kinds.has('agent-crash-looping') || kinds.has('budget-exhausted')) {
    // Only the states that mention a watched status are read and parsed.
    const text = postgres ? 'reported::text' : 'reported';
    const rows = await dataSource.query<Array<{ device_id: string; reported: unknown }>>(
      `SELECT device_id, reported FROM device_states
       WHERE ${text} LIKE '%crash-looping%' OR ${text} LIKE '%budget-exhausted%'`,
    );
    for (const row of rows) {
      const reported = parseJson(row.reported) as {
        current?: { agents?: Record<string, { status?: string }> };
      } | null;
      const agents = reported?.current?.agents ?? {};
      const found = { 'crash-looping': [] as string[], 'budget-exhausted': [] as string[] };
      for (const [agentId, agent] of Object.entries(agents)) {
        if (agent.status === 'crash-looping' || agent.status === 'budget-exhausted')
          found[agent.status].push(agentId);
      }
      facts.agentsByStatus.set(row.device_id, found);
    }
  }

  if (kinds.has('update-failed')) {
    const rows = await dataSource.query<Array<{ device_id: string; version: string; status: string }>>(
      `SELECT u.device_id, u.version, u.status FROM device_updates u
       JOIN (SELECT device_id, MAX(received_at) AS received_at FROM device_updates GROUP BY device_id) m
         ON m.device_id = u.device_id AND m.received_at = u.received_at
       WHERE u.status IN ('failed', 'rolled-back')`,
    );
    for (const row of rows)
      facts.failedUpdates.set(row.device_id, { version: row.version, status: row.status });
  }
  return facts;
}

/** Whether a rule's target covers a box. */
export function targets(target: AlertTarget, box: FleetBox): boolean {
  if (target.all) return true;
  if (target.deviceIds?.includes(box.id)) return true;
  return target.tags?.some((tag) => box.tags.includes(tag)) ?? false;
}

/** The condition of one rule on one box: a summary while it holds, null when it does not. */
export function conditionOf(
  kind: AlertKind,
  params: AlertParams,
  box: FleetBox,
  facts: FleetFacts,
): string | null {
  switch (kind) {
    case 'device-offline': {
      if (!facts.offline.has(box.id)) return null;
      const seen = facts.offline.get(box.id);
      return seen ? `${box.name} is offline (last seen ${seen.toISOString()})` : `${box.name} is offline`;
    }
    case 'metric-threshold': {
      const { metric, op, threshold } = params;
      if (metric === undefined || op === undefined || threshold === undefined) return null;
      const value = facts.latestMetrics.get(box.id)?.[metric];
      if (typeof value !== 'number') return null;
      const crossed = op === '>' ? value > threshold : value < threshold;
      return crossed ? `${box.name}: ${metric} = ${value} ${op} ${threshold}` : null;
    }
    case 'agent-crash-looping':
    case 'budget-exhausted': {
      const status = kind === 'agent-crash-looping' ? 'crash-looping' : 'budget-exhausted';
      const agents = facts.agentsByStatus.get(box.id)?.[status] ?? [];
      return agents.length > 0 ? `${box.name}: agent ${agents.join(', ')} ${status}` : null;
    }
    case 'update-failed': {
      const failed = facts.failedUpdates.get(box.id);
      return failed ? `${box.name}: update to ${failed.version} ${failed.status}` : null;
    }
  }
}

/** A timestamp column as a raw query returns it: a Date on PostgreSQL, TypeORM's UTC text on SQLite. */
function seenAt(value: unknown): Date | null {
  if (value instanceof Date) return value;
  if (typeof value === 'string') return new Date(`${value.replace(' ', 'T')}Z`);
  return null;
}

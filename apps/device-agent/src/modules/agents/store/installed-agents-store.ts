import { DesiredAgentSchema } from '@agentbox/schemas';
import type { InstalledAgent } from '../agents.contracts.js';
import type { AgentDatabase } from './agent-database.js';

export interface InstalledAgentRow {
  agent: InstalledAgent;
  installedAt: number;
}

/** The agents the reconciler has installed on this box (id -> definition at one version), across restarts. */
export class InstalledAgentsStore {
  constructor(
    private readonly db: AgentDatabase,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Every installed agent whose stored definition still validates. A row that does not (written by
   * another version, damaged) is left out, so the reconciler treats that agent as not installed and
   * installs it again from the desired state.
   */
  list(): InstalledAgentRow[] {
    const rows = this.db.prepare('SELECT agent, installed_at FROM installed_agents ORDER BY id').all() as {
      agent: string;
      installed_at: number;
    }[];
    const agents: InstalledAgentRow[] = [];
    for (const row of rows) {
      const agent = parseAgent(row.agent);
      if (agent) agents.push({ agent, installedAt: row.installed_at });
    }
    return agents;
  }

  get(agentId: string): InstalledAgentRow | undefined {
    const row = this.db
      .prepare('SELECT agent, installed_at FROM installed_agents WHERE id = ?')
      .get(agentId) as { agent: string; installed_at: number } | undefined;
    const agent = row && parseAgent(row.agent);
    return row && agent ? { agent, installedAt: row.installed_at } : undefined;
  }

  put(agent: InstalledAgent, installedAt = this.clock()): void {
    const valid = DesiredAgentSchema.parse(agent);
    this.db
      .prepare(
        `INSERT INTO installed_agents (id, agent, installed_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET agent = excluded.agent, installed_at = excluded.installed_at`,
      )
      .run(valid.id, JSON.stringify(valid), installedAt);
  }

  /** True when the agent was installed. */
  remove(agentId: string): boolean {
    return this.db.prepare('DELETE FROM installed_agents WHERE id = ?').run(agentId).changes > 0;
  }
}

function parseAgent(json: string): InstalledAgent | undefined {
  try {
    const parsed = DesiredAgentSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

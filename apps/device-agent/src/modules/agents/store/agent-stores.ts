import { openAgentDatabase, type AgentDatabase, type OpenAgentDatabaseOptions } from './agent-database.js';
import { ConversationStore } from './conversation-store.js';
import { InstalledAgentsStore } from './installed-agents-store.js';
import { MemoryStore, type MemoryLimits } from './memory-store.js';
import { RunStore } from './run-store.js';
import { UsageStore } from './usage-store.js';

/** The repositories over one agents.db connection. */
export interface AgentStores {
  db: AgentDatabase;
  runs: RunStore;
  memory: MemoryStore;
  installed: InstalledAgentsStore;
  usage: UsageStore;
  conversations: ConversationStore;
  close(): void;
}

export interface OpenAgentStoresOptions extends OpenAgentDatabaseOptions {
  memoryLimits?: Partial<MemoryLimits>;
  clock?: () => number;
}

export function openAgentStores(stateDir: string, options: OpenAgentStoresOptions = {}): AgentStores {
  const db = openAgentDatabase(stateDir, options);
  const clock = options.clock ?? Date.now;
  return {
    db,
    runs: new RunStore(db, clock),
    memory: new MemoryStore(db, options.memoryLimits, clock),
    installed: new InstalledAgentsStore(db, clock),
    usage: new UsageStore(db),
    conversations: new ConversationStore(db, clock),
    close: () => db.close(),
  };
}

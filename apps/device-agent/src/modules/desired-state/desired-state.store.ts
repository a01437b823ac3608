import { join } from 'node:path';
import { DesiredStateMessageSchema, type DesiredStateMessage } from '@agentbox/schemas';
import { readJsonFile, writeFileAtomic } from '../../common/atomic-file.js';

export const DESIRED_FILE = 'desired.json';

/** `<stateDir>/desired.json`: the last accepted full desired-state document, replaced atomically. */
export class DesiredStateStore {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, DESIRED_FILE);
  }

  /** The stored document, or undefined when there is none or it is unreadable (then the cloud's copy wins). */
  async load(): Promise<DesiredStateMessage | undefined> {
    try {
      const parsed = DesiredStateMessageSchema.safeParse(await readJsonFile(this.path));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async save(document: DesiredStateMessage): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(document)}\n`, 0o600);
  }
}

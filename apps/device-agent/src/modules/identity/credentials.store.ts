import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { HardwareIdSchema, ProvisionResponseSchema } from '@agentbox/schemas';
import { readJsonFile, writeFileAtomic } from '../../common/atomic-file.js';

export const CREDENTIALS_FILE = 'credentials.json';

/** What provisioning returned, plus what the box enrolled with and when. */
export const StoredCredentialsSchema = ProvisionResponseSchema.extend({
  hardwareId: HardwareIdSchema,
  enrolledAt: z.string(),
});
export type StoredCredentials = z.infer<typeof StoredCredentialsSchema>;

/** `<stateDir>/credentials.json`, mode 0600, replaced atomically so a crash never leaves half a secret. */
export class CredentialsStore {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, CREDENTIALS_FILE);
  }

  async load(): Promise<StoredCredentials | undefined> {
    const raw = await readJsonFile(this.path);
    if (raw === undefined) return undefined;
    const parsed = StoredCredentialsSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(
        `${this.path} is not a valid credentials file (${parsed.error.issues[0]?.message ?? 'invalid'})`,
      );
    }
    return parsed.data;
  }

  async save(credentials: StoredCredentials): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(credentials, null, 2)}\n`, 0o600);
  }

  /** File mode bits, for the check that nobody widened them. */
  async mode(): Promise<number> {
    return (await stat(this.path)).mode & 0o777;
  }
}

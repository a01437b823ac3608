import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { z } from 'zod';
import { UPDATE_REASONS, UPDATE_STATUSES, UpdateOfferSchema } from '@agentbox/schemas';
import { readJsonFile, writeFileAtomic } from '../../common/atomic-file.js';
import { SLOTS } from '@agentbox/launcher/boot-state';

/**
 * Where the box is in one update, persisted after every step so a kill -9 (or a power cut) resumes
 * the flow at the step it was in: every step is written to be safely run again.
 */
export const FLOW_STEPS = ['verify', 'download', 'install', 'switch', 'trial', 'final'] as const;
export type FlowStep = (typeof FLOW_STEPS)[number];

export const OtaFlowStateSchema = z.object({
  v: z.literal(1),
  rolloutId: z.string(),
  version: z.string(),
  offer: UpdateOfferSchema,
  step: z.enum(FLOW_STEPS),
  /** The slot the bundle goes into; fixed when the install starts. */
  slot: z.enum(SLOTS).optional(),
  /** The version the box ran when it took the offer (reported after a rollback). */
  fromVersion: z.string(),
  final: z
    .object({
      status: z.enum(UPDATE_STATUSES),
      reason: z.enum(UPDATE_REASONS).optional(),
      detail: z.string().optional(),
    })
    .optional(),
  updatedAt: z.number(),
});
export type OtaFlowState = z.infer<typeof OtaFlowStateSchema>;

export class OtaStateStore {
  readonly dir: string;
  readonly path: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'ota');
    this.path = join(this.dir, 'state.json');
  }

  /** An unreadable state file counts as none: the offer, still in the desired state, starts the flow again. */
  async load(): Promise<OtaFlowState | undefined> {
    try {
      const raw = await readJsonFile(this.path);
      if (raw === undefined) return undefined;
      const parsed = OtaFlowStateSchema.safeParse(raw);
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async save(state: OtaFlowState): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path, JSON.stringify(state));
  }
}

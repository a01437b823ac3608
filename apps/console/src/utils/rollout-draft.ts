import { RolloutCreateRequestSchema, type BoxCapability } from '@agentbox/schemas';
import type { RolloutCreateBody } from '@/api/ota-types';
import { fieldIssues, type FieldIssue } from './field-issues';
import { phaseOrderProblems, STANDARD_PHASES, toPhases, type PhaseDraft } from './rollout';

export type TargetKind = 'all' | 'tags' | 'boxes';

/** What the rollout wizard edits; `rolloutRequest` turns it into the body of POST /api/v1/rollouts. */
export interface RolloutDraft {
  releaseId: string | null;
  targetKind: TargetKind;
  tags: string[];
  deviceIds: string[];
  phaseMode: 'standard' | 'custom';
  customPhases: PhaseDraft[];
  successThresholdPct: number | null;
  autoAdvance: boolean;
  failurePct: number | null;
  minFinished: number | null;
  perBoxTimeoutMin: number | null;
  windowOn: boolean;
  windowStart: string;
  windowEnd: string;
  force: boolean;
  maxWaitMin: number | null;
}

export function standardDrafts(): PhaseDraft[] {
  return STANDARD_PHASES.map((p) =>
    p.count !== undefined
      ? { name: p.name, kind: 'count', value: p.count }
      : { name: p.name, kind: 'percent', value: p.percent ?? 100 },
  );
}

export function newRolloutDraft(releaseId: string | null): RolloutDraft {
  return {
    releaseId,
    targetKind: 'all',
    tags: [],
    deviceIds: [],
    phaseMode: 'standard',
    customPhases: standardDrafts(),
    successThresholdPct: 100,
    autoAdvance: true,
    failurePct: 50,
    minFinished: 1,
    perBoxTimeoutMin: 60,
    windowOn: false,
    windowStart: '02:00',
    windowEnd: '05:00',
    force: false,
    maxWaitMin: 10,
  };
}

/** What the wizard needs of a box to tell whether a rollout reaches it and whether it can update. */
export interface TargetableBox {
  id: string;
  tags: string[];
  capabilities: string[];
}

/** The boxes the drafted targets reach, as the fleet service resolves them (any of the tags). */
export function targetedBoxes<T extends TargetableBox>(draft: RolloutDraft, boxes: readonly T[]): T[] {
  if (draft.targetKind === 'all') return [...boxes];
  if (draft.targetKind === 'tags')
    return boxes.filter((box) => box.tags.some((tag) => draft.tags.includes(tag)));
  const chosen = new Set(draft.deviceIds);
  return boxes.filter((box) => chosen.has(box.id));
}

/**
 * Targeted boxes that do not report the `ota` capability (docs/protocol.md section 2): they run the
 * device agent without the launcher's slots and refuse every update offer.
 */
export function boxesThatCannotUpdate<T extends TargetableBox>(
  draft: RolloutDraft,
  boxes: readonly T[],
): T[] {
  return targetedBoxes(draft, boxes).filter(
    (box) => !box.capabilities.includes('ota' satisfies BoxCapability),
  );
}

export function draftPhases(draft: RolloutDraft): PhaseDraft[] {
  return draft.phaseMode === 'standard' ? standardDrafts() : draft.customPhases;
}

const minutes = (value: number | null) => (value === null ? null : value * 60);

/** The request as drafted; a cleared number stays null, so the schema reports it as required. */
export function rolloutRequest(draft: RolloutDraft): unknown {
  const targets =
    draft.targetKind === 'all'
      ? { all: true }
      : draft.targetKind === 'tags'
        ? { tags: [...draft.tags] }
        : { deviceIds: [...draft.deviceIds] };
  return {
    releaseId: draft.releaseId,
    targets,
    phases: toPhases(draftPhases(draft)),
    successThresholdPct: draft.successThresholdPct,
    autoAdvance: draft.autoAdvance,
    abort: { failurePct: draft.failurePct, minFinished: draft.minFinished },
    perBoxTimeoutSec: minutes(draft.perBoxTimeoutMin),
    ...(draft.windowOn ? { maintenanceWindow: { start: draft.windowStart, end: draft.windowEnd } } : {}),
    force: draft.force,
    maxWaitSec: minutes(draft.maxWaitMin),
    healthDeadlineSec: 120,
  };
}

export type RolloutDraftResult =
  { ok: true; body: RolloutCreateBody } | { ok: false; issues: FieldIssue[]; orderProblems: string[] };

/**
 * Validates the draft with the schema the fleet service applies to the request (issue paths are the
 * request's: `releaseId`, `targets`, `phases.1.name`, `maintenanceWindow.start`), plus the order of the
 * phases, which the schema leaves to the rollout engine (it would quietly clamp them).
 */
export function validateRolloutDraft(draft: RolloutDraft): RolloutDraftResult {
  const parsed = RolloutCreateRequestSchema.safeParse(rolloutRequest(draft));
  const orderProblems = phaseOrderProblems(draftPhases(draft));
  if (parsed.success && orderProblems.length === 0) return { ok: true, body: parsed.data };
  return { ok: false, issues: parsed.success ? [] : fieldIssues(parsed.error.issues), orderProblems };
}

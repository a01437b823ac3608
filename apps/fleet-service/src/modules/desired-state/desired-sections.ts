import type { DeviceStateRow } from './device-state.entity.js';

/**
 * Who writes which top-level section of a box's desired `spec`. Every section has exactly one owner at a
 * time; a write by one owner replaces only its own sections and keeps everyone else's as stored.
 *
 * - `operator`: `PUT /devices/{id}/desired`; every section no other owner holds (telemetry, ...).
 * - `agents`: the agents module's composition of `agents` and `providers` from assignments. It holds them
 *   once it has composed them for the box (the row's `agentsFingerprint` is set); before that they are
 *   the operator's, so a box configured by hand keeps its sections until assignments reach it.
 * - `update`: the rollouts module's update offer, always.
 *
 * Declared here rather than by each module at boot, so ownership is the same in any composition of
 * modules (the MQTT-only service has neither agents nor rollouts) and from the first request on.
 */
export type SectionOwner = 'operator' | 'agents' | 'update';

/** What a section owner writes: its sections, and for the agents owner what they were composed from. */
export interface SectionWrite {
  sections: Record<string, unknown>;
  agentsFingerprint?: string;
}
/** Given the stored row (null before the first write), the owner's sections, or null to write nothing. */
export type ComposeSections = (current: DeviceStateRow | null) => SectionWrite | null;

interface SectionClaim {
  owner: Exclude<SectionOwner, 'operator'>;
  sections: readonly string[];
  /** Whether the owner holds its sections in this box's document. */
  holds(state: DeviceStateRow | null): boolean;
}

export const SECTION_CLAIMS: readonly SectionClaim[] = [
  {
    owner: 'agents',
    sections: ['agents', 'providers'],
    holds: (state) => (state?.agentsFingerprint ?? null) !== null,
  },
  { owner: 'update', sections: ['update'], holds: () => true },
];

/** The owner of `section` in this document. */
export function ownerOf(section: string, state: DeviceStateRow | null): SectionOwner {
  const claim = SECTION_CLAIMS.find((candidate) => candidate.sections.includes(section));
  return claim?.holds(state) ? claim.owner : 'operator';
}

/** Whether `owner` may write `section`: its own sections always, the operator's only while no one else holds them. */
function writes(owner: SectionOwner, section: string, state: DeviceStateRow | null): boolean {
  if (owner === 'operator') return ownerOf(section, state) === 'operator';
  return SECTION_CLAIMS.some((claim) => claim.owner === owner && claim.sections.includes(section));
}

/**
 * The next document when `owner` writes `sections`: every section it may not write is kept as stored;
 * those it may write are replaced by what it gives (a section it leaves out is removed).
 */
export function mergeSections(
  owner: SectionOwner,
  state: DeviceStateRow | null,
  sections: Record<string, unknown>,
): Record<string, unknown> {
  const next: Record<string, unknown> = {};
  for (const [section, value] of Object.entries(state?.desiredSpec ?? {})) {
    if (!writes(owner, section, state)) next[section] = value;
  }
  for (const [section, value] of Object.entries(sections)) {
    if (writes(owner, section, state)) next[section] = value;
  }
  return next;
}

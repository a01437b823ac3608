/** The device agent's telemetry interval in the end-to-end tests (`AGENTBOX_TELEMETRY_INTERVAL_SEC=1`). */
const INTERVAL_MS = 1_000;

/**
 * Where consecutive samples lie 1.5 intervals or more apart: with one sample a second, a single lost
 * sample leaves a gap of two intervals, so a box that lost nothing has none. Each gap names the
 * sequence number after it.
 */
export function telemetryGaps(
  samples: ReadonlyArray<{ ts: number; seq: number }>,
): Array<{ at: number; ms: number }> {
  return samples
    .slice(1)
    .map((sample, i) => ({ at: sample.seq, ms: sample.ts - samples[i]!.ts }))
    .filter((gap) => gap.ms >= INTERVAL_MS * 1.5);
}

/** Points of the update flow its owner is told about as the flow reaches them. */
export const FLOW_CHECKPOINTS = [
  /** The release metadata is about to be verified (step `verify`). */
  'before-verify',
  /** Every byte of the bundle is on disk; its size and sha256 are about to be checked. */
  'before-bundle-check',
  /** boot.json is committed; the `healthy` report and the final state are not written yet. */
  'after-commit',
] as const;
export type FlowCheckpoint = (typeof FLOW_CHECKPOINTS)[number];

/**
 * Told when the update flow reaches a checkpoint; the flow goes on once `reached` settles, and stops
 * when it rejects (`signal` aborts when the flow is stopped). A box goes straight on; the end-to-end
 * tests that kill the device agent at each step hold the flow at one (test/support/ota-box-main.ts).
 */
export abstract class UpdateFlowCheckpoints {
  abstract reached(point: FlowCheckpoint, signal?: AbortSignal): Promise<void>;
}

export class PassingCheckpoints extends UpdateFlowCheckpoints {
  reached(): Promise<void> {
    return Promise.resolve();
  }
}

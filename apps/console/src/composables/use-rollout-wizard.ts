import { computed, ref, watchEffect } from 'vue';
import type { RolloutDetail } from '@/api/ota-types';
import { useFieldIssues } from '@/composables/use-field-issues';
import { useSubmit } from '@/composables/use-submit';
import { useDevicesStore } from '@/stores/devices';
import { useReleasesStore } from '@/stores/releases';
import { useRolloutsStore } from '@/stores/rollouts';
import { newRolloutDraft, standardDrafts, validateRolloutDraft } from '@/utils/rollout-draft';

export const WIZARD_STEPS = 3;

/**
 * The rollout wizard's state: the draft, the step on screen and the draft's problems, checked with the
 * request schema of the fleet service and handed to the steps' fields through useFieldIssues.
 */
export function useRolloutWizard() {
  const releases = useReleasesStore();
  const devices = useDevicesStore();
  const rollouts = useRolloutsStore();
  const fields = useFieldIssues();

  const step = ref(1);
  const draft = ref(newRolloutDraft(null));
  const { submitting: saving, error: failure, attempt } = useSubmit();

  const checked = computed(() => validateRolloutDraft(draft.value));
  // In step with the draft at once, so the buttons never act on the problems of an older draft.
  watchEffect(
    () => {
      fields.issues.value = checked.value.ok ? [] : checked.value.issues;
    },
    { flush: 'sync' },
  );
  const orderProblems = computed(() => (checked.value.ok ? [] : checked.value.orderProblems));
  const invalid = (path: string) => fields.status(path) === 'error';

  const stepValid = computed(() => {
    switch (step.value) {
      case 1:
        return !invalid('releaseId') && !invalid('targets');
      case 2:
        return !invalid('phases') && orderProblems.value.length === 0;
      default:
        return checked.value.ok;
    }
  });

  /** A fresh choice of release, boxes and phases; the safety settings stay as last chosen. */
  function start(presetReleaseId: string | null): void {
    step.value = 1;
    failure.value = null;
    draft.value = {
      ...draft.value,
      releaseId: presetReleaseId ?? releases.ready[0]?.id ?? null,
      targetKind: 'all',
      tags: [],
      deviceIds: [],
      phaseMode: 'standard',
      customPhases: standardDrafts(),
    };
    releases.fetchAll().catch(() => undefined);
    devices.fetchAll().catch(() => undefined);
  }

  /** The rollout created as a draft, or null when the draft is not valid or the fleet service refused. */
  async function create(): Promise<RolloutDetail | null> {
    const result = checked.value;
    if (!result.ok) return null;
    return (await attempt(() => rollouts.create(result.body))) ?? null;
  }

  return { step, draft, saving, failure, fields, orderProblems, stepValid, start, create };
}

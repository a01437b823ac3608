import { afterEach, describe, expect, it } from 'vitest';
import type { App } from 'vue';
import { ApiRequestError } from '@/api/errors';
import type { RolloutCreateBody } from '@/api/ota-types';
import { useDevicesStore } from '@/stores/devices';
import { useReleasesStore } from '@/stores/releases';
import { useRolloutsStore } from '@/stores/rollouts';
import { mountComposable } from '@/testing/mount-composable';
import { activeTestPinia } from '@/testing/pinia';
import { useRolloutWizard } from './use-rollout-wizard';

describe('useRolloutWizard', () => {
  let app: App;
  let posted: RolloutCreateBody[];

  afterEach(() => app.unmount());

  function mount() {
    const pinia = activeTestPinia({ plumbing: false });
    posted = [];
    // No fleet service here: the stores answer for it.
    useReleasesStore().fetchAll = () => Promise.resolve();
    useDevicesStore().fetchAll = () => Promise.resolve();
    useRolloutsStore().create = (body) => {
      posted.push(body);
      return Promise.reject(new ApiRequestError(400, 'RELEASE_NOT_READY', 'not ready'));
    };
    const mounted = mountComposable(() => useRolloutWizard(), [pinia]);
    app = mounted.app;
    return mounted.result;
  }

  it('lets each step on only while the request schema finds nothing wrong in it', () => {
    const sut = mount();
    sut.start(null);
    expect(sut.stepValid.value).toBe(false);
    expect(sut.fields.status('releaseId')).toBe('error');

    sut.start('rel-1');
    expect(sut.stepValid.value).toBe(true);

    sut.step.value = 2;
    sut.draft.value.phaseMode = 'custom';
    sut.draft.value.customPhases = [{ name: '', kind: 'percent', value: 50 }];
    expect(sut.stepValid.value).toBe(false);
    expect(sut.fields.feedback('phases.0.name')).toBe('Required.');
    expect(sut.orderProblems.value).toEqual(['rolloutWizard.problems.lastNotAll']);

    sut.draft.value.customPhases = [{ name: 'all', kind: 'percent', value: 100 }];
    expect(sut.stepValid.value).toBe(true);

    sut.step.value = 3;
    sut.draft.value.windowOn = true;
    sut.draft.value.windowEnd = '25:00';
    expect(sut.stepValid.value).toBe(false);
    expect(sut.fields.status('maintenanceWindow.end')).toBe('error');
  });

  it('sends the checked request and keeps a refusal for the dialog', async () => {
    const sut = mount();
    sut.start('rel-1');

    await expect(sut.create()).resolves.toBeNull();

    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ releaseId: 'rel-1', targets: { all: true }, healthDeadlineSec: 120 });
    expect(sut.failure.value).toBe('not ready');
    expect(sut.saving.value).toBe(false);
  });

  it('sends nothing while the draft is not valid', async () => {
    const sut = mount();
    sut.start(null);

    await expect(sut.create()).resolves.toBeNull();

    expect(posted).toEqual([]);
  });
});

import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '@/api/client';
import { ApiRequestError, isNotFound, unwrap } from '@/api/errors';
import type { OtaRoot, SignedRootBody } from '@/api/ota-types';

/** Code of the error thrown when the chosen file is not JSON. */
export const ROOT_UNREADABLE = 'ROOT_UNREADABLE';

/**
 * The fleet's trusted OTA root (root.json): null until one is installed from AGENTBOX_OTA_ROOT_FILE or
 * uploaded here.
 */
export const useOtaRootStore = defineStore(
  'ota-root',
  () => {
    const current = ref<OtaRoot | null>(null);
    const loaded = ref(false);
    const error = ref<unknown>(null);

    async function fetch(): Promise<void> {
      try {
        current.value = await unwrap(api().GET('/api/v1/ota/root'));
        error.value = null;
      } catch (caught) {
        if (!isNotFound(caught)) {
          error.value = caught;
          throw caught;
        }
        current.value = null;
        error.value = null;
      } finally {
        loaded.value = true;
      }
    }

    /**
     * Sends the file's JSON untouched: the signatures cover its `signed` part, so the fleet service is
     * the one to check its shape.
     */
    async function upload(text: string): Promise<OtaRoot> {
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (caught) {
        throw new ApiRequestError(
          0,
          ROOT_UNREADABLE,
          caught instanceof Error ? caught.message : String(caught),
        );
      }
      current.value = await unwrap(api().PUT('/api/v1/ota/root', { body: document as SignedRootBody }));
      return current.value;
    }

    function reset(): void {
      current.value = null;
      loaded.value = false;
      error.value = null;
    }

    return { current, loaded, error, fetch, upload, reset };
  },
  { plumbing: { reset: (store) => store.reset() } },
);

import { SignedReleaseSchema } from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { computed } from 'vue';
import { api } from '@/api/client';
import { ApiRequestError, unwrap } from '@/api/errors';
import type { Release, SignedReleaseBody } from '@/api/ota-types';
import { putWithProgress, type UploadProgress } from '@/api/upload';
import { useAuthStore } from '@/stores/auth';
import { useById, useFetchState } from '@/stores/request-state';

/** Code of the error thrown when the chosen manifest file is not a signed release manifest. */
export const MANIFEST_UNREADABLE = 'MANIFEST_UNREADABLE';

/**
 * Reads a signed manifest file. The parsed document is what gets sent, untouched: the signatures cover its
 * `signed` part, so filling in schema defaults here would break them.
 */
export function parseManifest(text: string): { body: SignedReleaseBody; version: string } {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ApiRequestError(0, MANIFEST_UNREADABLE, error instanceof Error ? error.message : String(error));
  }
  const parsed = SignedReleaseSchema.safeParse(document);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ApiRequestError(
      0,
      MANIFEST_UNREADABLE,
      first ? `${first.path.join('.') || 'document'}: ${first.message}` : parsed.error.message,
    );
  }
  return { body: document as SignedReleaseBody, version: parsed.data.signed.version };
}

export type PublishStep = 'manifest' | 'bundle' | 'done';

export interface PublishOptions {
  manifestText: string;
  bundle: Blob;
  onStep?: (step: PublishStep) => void;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

/** Releases of the device agent: signed manifests verified by the fleet service, then their bundles. */
export const useReleasesStore = defineStore(
  'releases',
  () => {
    const { byId, get, upsert, drop, replaceAll, clear } = useById<Release>();
    const { loaded, loading, error, track, forget } = useFetchState();

    /** Newest upload first. */
    const all = computed(() =>
      Object.values(byId.value).sort(
        (a, b) => b.uploadedAt.localeCompare(a.uploadedAt) || b.version.localeCompare(a.version),
      ),
    );
    const ready = computed(() => all.value.filter((release) => release.status === 'ready'));

    async function fetchAll(): Promise<void> {
      await track(async () => {
        const list = await unwrap(api().GET('/api/v1/releases'));
        replaceAll(list);
      });
    }

    async function create(body: SignedReleaseBody): Promise<Release> {
      const release = await unwrap(api().POST('/api/v1/releases', { body }));
      upsert(release);
      return release;
    }

    async function uploadArtifact(
      id: string,
      bundle: Blob,
      onProgress?: (progress: UploadProgress) => void,
      signal?: AbortSignal,
    ): Promise<Release> {
      const release = await putWithProgress<Release>({
        path: `/api/v1/releases/${encodeURIComponent(id)}/artifact`,
        body: bundle,
        token: useAuthStore().currentToken(),
        ...(onProgress ? { onProgress } : {}),
        ...(signal ? { signal } : {}),
      });
      upsert(release);
      return release;
    }

    /**
     * Manifest first (verified against the trusted root), then the bundle (checked against the manifest).
     * When an earlier attempt got the manifest in but not the bundle, the release is picked up again
     * instead of being refused as existing.
     */
    async function publish({
      manifestText,
      bundle,
      onStep,
      onProgress,
      signal,
    }: PublishOptions): Promise<Release> {
      const { body, version } = parseManifest(manifestText);
      onStep?.('manifest');
      let release: Release;
      try {
        release = await create(body);
      } catch (caught) {
        if (!(caught instanceof ApiRequestError) || caught.code !== 'RELEASE_EXISTS') throw caught;
        await fetchAll();
        const waiting = all.value.find((r) => r.version === version && r.status === 'awaiting-artifact');
        if (!waiting) throw caught;
        release = waiting;
      }
      onStep?.('bundle');
      const done = await uploadArtifact(release.id, bundle, onProgress, signal);
      onStep?.('done');
      return done;
    }

    async function remove(id: string): Promise<void> {
      await unwrap(api().DELETE('/api/v1/releases/{id}', { params: { path: { id } } }));
      drop(id);
    }

    function reset(): void {
      clear();
      forget();
    }

    return {
      byId,
      loaded,
      loading,
      error,
      all,
      ready,
      get,
      fetchAll,
      create,
      uploadArtifact,
      publish,
      remove,
      reset,
    };
  },
  { plumbing: { reset: (store) => store.reset() } },
);

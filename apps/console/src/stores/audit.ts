import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { api } from '@/api/client';
import { unwrapDownload, type FileDownload } from '@/api/download';
import { unwrap } from '@/api/errors';
import type { AuditEntry, AuditQuery } from '@/api/types';

type AuditOutcome = NonNullable<AuditQuery['outcome']>;
import { useLatestRequest } from '@/stores/request-state';

export const AUDIT_PAGE_SIZES = [25, 50, 100] as const;

/** What the audit page filters on; empty fields are left out of the query. */
export interface AuditFilter {
  /** ISO 8601 instants: from inclusive, to exclusive. */
  from?: string;
  to?: string;
  actor?: string;
  /** An exact action, or a prefix ending in `*`. */
  action?: string;
  targetType?: string;
  targetId?: string;
  outcome?: AuditOutcome;
}

function cleaned(filter: AuditFilter): AuditFilter {
  const out: AuditFilter = {};
  for (const key of ['from', 'to', 'actor', 'action', 'targetType', 'targetId'] as const) {
    const value = filter[key]?.trim();
    if (value) out[key] = value;
  }
  if (filter.outcome) out.outcome = filter.outcome;
  return out;
}

/**
 * The audit log page: one page at a time, newest first, walked with the fleet service's cursors. The
 * cursors of the pages already seen are kept, so "newer" goes back without asking for offsets.
 */
export const useAuditStore = defineStore(
  'audit',
  () => {
    const filter = ref<AuditFilter>({});
    const pageSize = ref<number>(AUDIT_PAGE_SIZES[0]);
    const items = shallowRef<AuditEntry[]>([]);
    const loaded = ref(false);
    /** `cursors[i]` starts page i (page 0 has none). */
    const cursors = ref<Array<string | undefined>>([undefined]);
    const page = ref(0);
    const nextCursor = ref<string | null>(null);
    const { loading, error, latest, abandon } = useLatestRequest();

    const hasNewer = computed(() => page.value > 0);
    const hasOlder = computed(() => nextCursor.value !== null);
    const filtered = computed(() => Object.keys(filter.value).length > 0);

    async function load(target: number): Promise<void> {
      const cursor = cursors.value[target];
      const query: AuditQuery = { ...filter.value, limit: pageSize.value, ...(cursor ? { cursor } : {}) };
      await latest(
        async () => {
          const result = await api().GET('/api/v1/audit', { params: { query } });
          const entries = await unwrap(Promise.resolve(result));
          return { entries, next: result.response.headers.get('x-next-cursor') };
        },
        ({ entries, next }) => {
          items.value = entries;
          nextCursor.value = next;
          page.value = target;
          cursors.value = [...cursors.value.slice(0, target + 1), ...(next ? [next] : [])];
          loaded.value = true;
        },
      );
    }

    /** Applies new filters (and page size) and shows their newest page. */
    async function search(next: AuditFilter, size = pageSize.value): Promise<void> {
      filter.value = cleaned(next);
      pageSize.value = size;
      cursors.value = [undefined];
      await load(0);
    }

    async function older(): Promise<void> {
      if (hasOlder.value) await load(page.value + 1);
    }

    async function newer(): Promise<void> {
      if (hasNewer.value) await load(page.value - 1);
    }

    async function refresh(): Promise<void> {
      await load(page.value);
    }

    /** The whole filtered log as CSV (admin), as the fleet service streams it. */
    async function exportCsv(): Promise<FileDownload> {
      return unwrapDownload(
        api().GET('/api/v1/audit/export.csv', { params: { query: filter.value }, parseAs: 'blob' }),
        'agentbox-audit.csv',
      );
    }

    function reset(): void {
      abandon();
      filter.value = {};
      items.value = [];
      loaded.value = false;
      cursors.value = [undefined];
      page.value = 0;
      nextCursor.value = null;
    }

    return {
      filter,
      pageSize,
      items,
      loaded,
      loading,
      error,
      page,
      hasNewer,
      hasOlder,
      filtered,
      search,
      older,
      newer,
      refresh,
      exportCsv,
      reset,
    };
  },
  { plumbing: { reset: (store) => store.reset() } },
);

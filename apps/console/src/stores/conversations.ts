import type { LiveEvent } from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '@/api/client';
import { unwrapDownload, type FileDownload } from '@/api/download';
import { unwrap } from '@/api/errors';
import type { Conversation, ConversationMessage } from '@/api/types';
import { useFetchState } from '@/stores/request-state';

/** Oldest first; a question before its answer in the same millisecond, as the fleet service orders them. */
function ordered(messages: ConversationMessage[]): ConversationMessage[] {
  return messages.sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || (a.role === b.role ? 0 : a.role === 'user' ? -1 : 1),
  );
}

/**
 * The web chat: the conversations with one agent on one box, and the messages of the open one, kept up
 * to date by the live stream (`conversation.message`).
 */
export const useConversationsStore = defineStore(
  'conversations',
  () => {
    const scope = ref<{ agentId: string; deviceId: string } | null>(null);
    const list = ref<Conversation[]>([]);
    const openId = ref<string | null>(null);
    const messages = ref<ConversationMessage[]>([]);
    const { loaded, loading, error, track, forget } = useFetchState();
    const messagesLoading = ref(false);

    const open = computed(() => list.value.find((c) => c.id === openId.value) ?? null);
    /** The user messages whose run has not answered yet: the agent is thinking about them. */
    const pending = computed(() => {
      const answered = new Set(messages.value.filter((m) => m.role === 'assistant').map((m) => m.runId));
      return messages.value.filter((m) => m.role === 'user' && !answered.has(m.runId));
    });

    async function fetchList(agentId: string, deviceId: string): Promise<void> {
      scope.value = { agentId, deviceId };
      await track(async () => {
        const body = await unwrap(
          api().GET('/api/v1/conversations', { params: { query: { agentId, deviceId } } }),
        );
        if (scope.value?.agentId === agentId && scope.value.deviceId === deviceId) list.value = body.items;
      });
    }

    async function select(id: string | null): Promise<void> {
      openId.value = id;
      messages.value = [];
      if (id === null) return;
      messagesLoading.value = true;
      try {
        const body = await unwrap(
          api().GET('/api/v1/conversations/{id}/messages', { params: { path: { id } } }),
        );
        if (openId.value === id) messages.value = ordered(body.items);
      } finally {
        messagesLoading.value = false;
      }
    }

    async function create(agentId: string, deviceId: string): Promise<Conversation> {
      const created = await unwrap(api().POST('/api/v1/conversations', { body: { agentId, deviceId } }));
      list.value = [created, ...list.value.filter((c) => c.id !== created.id)];
      await select(created.id);
      return created;
    }

    async function send(id: string, text: string): Promise<void> {
      const sent = await unwrap(
        api().POST('/api/v1/conversations/{id}/messages', { params: { path: { id } }, body: { text } }),
      );
      // The live event brings the same message; whichever comes first is kept once.
      add(id, { id: sent.id, role: 'user', text, runId: sent.runId, createdAt: new Date().toISOString() });
    }

    function add(conversationId: string, message: ConversationMessage): void {
      const known = list.value.find((c) => c.id === conversationId);
      if (known) {
        known.lastMessageAt = message.createdAt;
        if (!known.title && message.role === 'user') known.title = message.text.slice(0, 80);
      }
      if (openId.value !== conversationId) return;
      const index = messages.value.findIndex((m) => m.id === message.id);
      if (index >= 0) messages.value.splice(index, 1, message);
      else messages.value = ordered([...messages.value, message]);
    }

    function applyLiveEvent(event: LiveEvent): void {
      if (event.type !== 'conversation.message') return;
      add(event.conversationId, event.message);
    }

    /** Deletes the conversation; resolves whether its box forgot it too (false: it was offline). */
    async function remove(id: string): Promise<boolean> {
      const deleted = await unwrap(api().DELETE('/api/v1/conversations/{id}', { params: { path: { id } } }));
      list.value = list.value.filter((c) => c.id !== id);
      if (openId.value === id) await select(null);
      return deleted.forgottenOnBox;
    }

    async function exportMarkdown(id: string): Promise<FileDownload> {
      return unwrapDownload(
        api().GET('/api/v1/conversations/{id}/export', { params: { path: { id } }, parseAs: 'blob' }),
        `conversation-${id}.md`,
      );
    }

    async function refresh(): Promise<void> {
      if (scope.value) await fetchList(scope.value.agentId, scope.value.deviceId);
      if (openId.value) await select(openId.value);
    }

    function reset(): void {
      scope.value = null;
      list.value = [];
      openId.value = null;
      messages.value = [];
      forget();
    }

    return {
      scope,
      list,
      openId,
      open,
      messages,
      pending,
      loaded,
      loading,
      error,
      messagesLoading,
      fetchList,
      select,
      create,
      send,
      remove,
      applyLiveEvent,
      exportMarkdown,
      refresh,
      reset,
    };
  },
  {
    plumbing: {
      reset: (store) => store.reset(),
      live: { 'conversation.message': (store, event) => store.applyLiveEvent(event) },
      reconnected: (store) => store.refresh(),
    },
  },
);

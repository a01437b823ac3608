import { defineStore } from 'pinia';
import { computed } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { UserAccount, UserCreateBody, UserUpdateBody } from '@/api/types';
import { useById, useFetchState } from '@/stores/request-state';

/**
 * The fleet's users (admin). A reset password is handed to the caller of `resetPassword` once and never
 * kept here.
 */
export const useUsersStore = defineStore(
  'users',
  () => {
    const { byId, upsert, drop, replaceAll, clear } = useById<UserAccount>();
    const { loaded, loading, error, track, forget } = useFetchState();

    const all = computed(() =>
      Object.values(byId.value).sort((a, b) => a.username.localeCompare(b.username)),
    );

    async function fetchAll(): Promise<void> {
      await track(async () => {
        const list = await unwrap(api().GET('/api/v1/users'));
        replaceAll(list.items);
      });
    }

    async function create(body: UserCreateBody): Promise<UserAccount> {
      const user = await unwrap(api().POST('/api/v1/users', { body }));
      upsert(user);
      return user;
    }

    async function update(id: string, body: UserUpdateBody): Promise<UserAccount> {
      const user = await unwrap(api().PATCH('/api/v1/users/{id}', { params: { path: { id } }, body }));
      upsert(user);
      return user;
    }

    async function remove(id: string): Promise<void> {
      await unwrap(api().DELETE('/api/v1/users/{id}', { params: { path: { id } } }));
      drop(id);
    }

    /** The generated password, to show once. */
    async function resetPassword(id: string): Promise<string> {
      const reset = await unwrap(
        api().POST('/api/v1/users/{id}/password-reset', { params: { path: { id } } }),
      );
      return reset.password;
    }

    function reset(): void {
      clear();
      forget();
    }

    return { byId, loaded, loading, error, all, fetchAll, create, update, remove, resetPassword, reset };
  },
  { plumbing: { reset: (store) => store.reset() } },
);

import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { LoginResponse, PasswordChangeBody, SessionUser, UserRole } from '@/api/types';

export const SESSION_STORAGE_KEY = 'agentbox.session';

interface StoredSession {
  token: string;
  expiresAt: number;
  user: SessionUser;
}

function readSession(): StoredSession | null {
  try {
    const raw = localStorage.getItem(SESSION_STORAGE_KEY);
    if (!raw) return null;
    const session = JSON.parse(raw) as Partial<StoredSession>;
    if (typeof session.token !== 'string' || typeof session.expiresAt !== 'number' || !session.user)
      return null;
    return session as StoredSession;
  } catch {
    return null;
  }
}

function writeSession(session: StoredSession | null): void {
  try {
    if (session) localStorage.setItem(SESSION_STORAGE_KEY, JSON.stringify(session));
    else localStorage.removeItem(SESSION_STORAGE_KEY);
  } catch {
    // Storage blocked: the session lasts for this tab only.
  }
}

const EDIT_ROLES: readonly UserRole[] = ['admin', 'operator'];

export const useAuthStore = defineStore('auth', () => {
  const stored = readSession();
  const token = ref<string | null>(stored?.token ?? null);
  const expiresAt = ref<number>(stored?.expiresAt ?? 0);
  const user = ref<SessionUser | null>(stored?.user ?? null);

  const isAuthenticated = computed(() => token.value !== null && expiresAt.value > Date.now());
  const role = computed<UserRole | null>(() => user.value?.role ?? null);
  const canEdit = computed(() => role.value !== null && EDIT_ROLES.includes(role.value));
  const isAdmin = computed(() => role.value === 'admin');

  /** The token for API calls; null once expired so a stale token is never sent. */
  function currentToken(): string | null {
    return isAuthenticated.value ? token.value : null;
  }

  function startSession(result: LoginResponse): void {
    token.value = result.accessToken;
    expiresAt.value = Date.now() + result.expiresIn * 1000;
    user.value = result.user;
    writeSession({ token: token.value, expiresAt: expiresAt.value, user: user.value });
  }

  async function login(username: string, password: string): Promise<void> {
    startSession(await unwrap(api().POST('/api/v1/auth/login', { body: { username, password } })));
  }

  /** The service ends every session of the user on a change and answers with a new one for this tab. */
  async function changePassword(body: PasswordChangeBody): Promise<void> {
    startSession(await unwrap(api().POST('/api/v1/auth/password', { body })));
  }

  /** Refreshes the user (role changes); a 401 here logs out through the client's hook. */
  async function fetchMe(): Promise<void> {
    const me = await unwrap(api().GET('/api/v1/auth/me'));
    user.value = me;
    if (token.value) writeSession({ token: token.value, expiresAt: expiresAt.value, user: me });
  }

  function logout(): void {
    token.value = null;
    expiresAt.value = 0;
    user.value = null;
    writeSession(null);
  }

  return {
    token,
    expiresAt,
    user,
    isAuthenticated,
    role,
    canEdit,
    isAdmin,
    currentToken,
    login,
    changePassword,
    fetchMe,
    logout,
  };
});

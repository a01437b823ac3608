// @vitest-environment node
import { Window } from 'happy-dom';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, describe, expect, it } from 'vitest';
import { configureAuth } from '@/api/client';
import { safeRedirect } from '@/router';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { SESSION_STORAGE_KEY, useAuthStore } from './auth';

describe('auth store', () => {
  let server: FleetServer;

  useFleetServer((fleet) => {
    // A real Storage implementation for the node environment, which has no localStorage of its own.
    globalThis.localStorage = new Window().localStorage;
    server = fleet;
    server.route('POST', '/api/v1/auth/login', (_req, _url, body) => {
      const { username, password } = JSON.parse(body) as { username: string; password: string };
      return password === 'right-password'
        ? {
            status: 200,
            body: {
              accessToken: 'jwt-abc',
              tokenType: 'Bearer',
              expiresIn: 3600,
              user: { username, role: 'operator' },
            },
          }
        : {
            status: 401,
            body: { statusCode: 401, code: 'INVALID_CREDENTIALS', message: 'Wrong username or password' },
          };
    });
    server.route('GET', '/api/v1/auth/me', (req) =>
      req.headers.authorization === 'Bearer jwt-abc'
        ? { status: 200, body: { username: 'ops', role: 'viewer' } }
        : { status: 401, body: { statusCode: 401, code: 'UNAUTHENTICATED', message: 'no' } },
    );
  });

  afterEach(() => {
    configureAuth({ getToken: () => null, onUnauthorized: () => undefined });
  });

  it('signs in, keeps the session in localStorage and restores it in a new store', async () => {
    const sut = useAuthStore();
    await sut.login('ops', 'right-password');
    expect(sut.isAuthenticated).toBe(true);
    expect(sut.role).toBe('operator');
    expect(sut.canEdit).toBe(true);
    expect(sut.isAdmin).toBe(false);
    expect(JSON.parse(localStorage.getItem(SESSION_STORAGE_KEY)!)).toMatchObject({ token: 'jwt-abc' });

    setActivePinia(createPinia());
    const restored = useAuthStore();
    expect(restored.currentToken()).toBe('jwt-abc');
    expect(restored.user?.username).toBe('ops');
  });

  it('refreshes the role with the stored token', async () => {
    const sut = useAuthStore();
    configureAuth({ getToken: () => sut.currentToken(), onUnauthorized: () => sut.logout() });
    await sut.login('ops', 'right-password');
    await sut.fetchMe();
    expect(sut.role).toBe('viewer');
    expect(sut.canEdit).toBe(false);
  });

  it('refuses wrong credentials without storing anything', async () => {
    const sut = useAuthStore();
    await expect(sut.login('ops', 'nope')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(sut.isAuthenticated).toBe(false);
    expect(localStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it('treats an expired session as signed out and never sends its token', () => {
    localStorage.setItem(
      SESSION_STORAGE_KEY,
      JSON.stringify({ token: 'old', expiresAt: Date.now() - 1000, user: { username: 'a', role: 'admin' } }),
    );
    const sut = useAuthStore();
    expect(sut.isAuthenticated).toBe(false);
    expect(sut.currentToken()).toBeNull();
  });

  it('logs out through the 401 hook when the server rejects the token', async () => {
    localStorage.setItem(
      SESSION_STORAGE_KEY,
      JSON.stringify({
        token: 'revoked',
        expiresAt: Date.now() + 60_000,
        user: { username: 'a', role: 'admin' },
      }),
    );
    const sut = useAuthStore();
    configureAuth({ getToken: () => sut.currentToken(), onUnauthorized: () => sut.logout() });
    expect(sut.isAuthenticated).toBe(true);
    await expect(sut.fetchMe()).rejects.toMatchObject({ statusCode: 401 });
    expect(sut.isAuthenticated).toBe(false);
    expect(localStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });
});

describe('safeRedirect', () => {
  it('follows same-app paths only', () => {
    expect(safeRedirect('/devices/abc?x=1')).toBe('/devices/abc?x=1');
    expect(safeRedirect('//evil.example/x')).toBe('/');
    expect(safeRedirect('https://evil.example')).toBe('/');
    expect(safeRedirect(undefined)).toBe('/');
    expect(safeRedirect(['/a'])).toBe('/');
  });
});

import type { Pinia } from 'pinia';
import { createRouter, createWebHistory, type RouteLocationRaw, type Router } from 'vue-router';
import { useAuthStore } from '@/stores/auth';

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean;
  }
}

/** Only same-app paths are followed after login (no `//evil.example` open redirect). */
export function safeRedirect(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : '/';
}

export function createAppRouter(pinia: Pinia): Router {
  const router = createRouter({
    history: createWebHistory('/'),
    routes: [
      {
        path: '/login',
        name: 'login',
        component: () => import('@/views/LoginView.vue'),
        meta: { public: true },
      },
      {
        path: '/',
        component: () => import('@/components/AppShell.vue'),
        children: [
          { path: '', name: 'dashboard', component: () => import('@/views/DashboardView.vue') },
          { path: 'devices', name: 'devices', component: () => import('@/views/DevicesView.vue') },
          {
            path: 'devices/:id',
            name: 'device',
            component: () => import('@/views/DeviceDetailView.vue'),
            props: true,
          },
          { path: 'agents', name: 'agents', component: () => import('@/views/AgentsView.vue') },
          { path: 'agents/new', name: 'agent-new', component: () => import('@/views/AgentEditView.vue') },
          {
            path: 'agents/:id',
            name: 'agent',
            component: () => import('@/views/AgentDetailView.vue'),
            props: true,
          },
          {
            path: 'agents/:id/edit',
            name: 'agent-edit',
            component: () => import('@/views/AgentEditView.vue'),
            props: true,
          },
          { path: 'chat', name: 'chat', component: () => import('@/views/ChatView.vue') },
          { path: 'hooks', name: 'hooks', component: () => import('@/views/HooksView.vue') },
          { path: 'providers', name: 'providers', component: () => import('@/views/ProvidersView.vue') },
          { path: 'releases', name: 'releases', component: () => import('@/views/ReleasesView.vue') },
          { path: 'rollouts', name: 'rollouts', component: () => import('@/views/RolloutsView.vue') },
          {
            path: 'rollouts/:id',
            name: 'rollout',
            component: () => import('@/views/RolloutView.vue'),
            props: true,
          },
          { path: 'alerts', name: 'alerts', component: () => import('@/views/AlertsView.vue') },
          { path: 'api-keys', name: 'api-keys', component: () => import('@/views/ApiKeysView.vue') },
          { path: 'users', name: 'users', component: () => import('@/views/UsersView.vue') },
          {
            path: 'claim-tokens',
            name: 'claim-tokens',
            component: () => import('@/views/ClaimTokensView.vue'),
          },
          { path: 'audit', name: 'audit', component: () => import('@/views/AuditView.vue') },
          { path: 'runs/:id', name: 'run', component: () => import('@/views/RunView.vue'), props: true },
          { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue') },
        ],
      },
    ],
  });

  router.beforeEach((to): RouteLocationRaw | true => {
    const auth = useAuthStore(pinia);
    if (to.meta.public) {
      return to.name === 'login' && auth.isAuthenticated ? safeRedirect(to.query.redirect) : true;
    }
    if (!auth.isAuthenticated) return { name: 'login', query: { redirect: to.fullPath } };
    return true;
  });

  return router;
}

import { createPinia } from 'pinia';
import { createApp } from 'vue';
import { configureAuth } from '@/api/client';
import { currentLocale, i18n, loadLocale } from '@/locales';
import { createAppRouter } from '@/router';
import { useAuthStore } from '@/stores/auth';
import { resetSessionStores } from '@/stores/session';
import { storePlumbing } from '@/stores/store-plumbing';
import App from './App.vue';

const app = createApp(App);
const pinia = createPinia();
pinia.use(storePlumbing);
app.use(pinia);
const router = createAppRouter(pinia);

const auth = useAuthStore(pinia);
configureAuth({
  getToken: () => auth.currentToken(),
  onUnauthorized: () => {
    if (!auth.token) return;
    auth.logout();
    resetSessionStores(pinia);
    const here = router.currentRoute.value;
    if (here.name !== 'login') {
      void router.replace({ name: 'login', query: { redirect: here.fullPath, expired: '1' } });
    }
  },
});

document.documentElement.lang = currentLocale();
app.use(i18n);
app.use(router);
// The chosen language's messages first, so the first page never flashes in English.
void loadLocale(currentLocale()).finally(() => app.mount('#app'));

import { createPinia } from 'pinia';
import { createApp } from 'vue';
import { configureAuth } from '@/api/client';
import { currentLocale, i18n } from '@/locales';
import { createAppRouter } from '@/router';
import { useAuthStore } from '@/stores/auth';
import { useDevicesStore } from '@/stores/devices';
import { useTelemetryStore } from '@/stores/telemetry';
import App from './App.vue';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);
const router = createAppRouter(pinia);

const auth = useAuthStore(pinia);
configureAuth({
  getToken: () => auth.currentToken(),
  onUnauthorized: () => {
    if (!auth.token) return;
    auth.logout();
    useDevicesStore(pinia).reset();
    useTelemetryStore(pinia).clear();
    const here = router.currentRoute.value;
    if (here.name !== 'login') {
      void router.replace({ name: 'login', query: { redirect: here.fullPath, expired: '1' } });
    }
  },
});

document.documentElement.lang = currentLocale();
app.use(i18n);
app.use(router);
app.mount('#app');

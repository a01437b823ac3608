import { fileURLToPath, URL } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';
import { webDelivery } from './vite/web-delivery-plugin';

// The fleet service the dev server proxies to; AGENTBOX_DEV_PROXY points it elsewhere.
const fleetService = process.env.AGENTBOX_DEV_PROXY ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  plugins: [vue(), webDelivery()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    // vue-i18n feature flags for the esm-bundler build: composition API only, no devtools in production.
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  server: {
    proxy: {
      // The live stream is SSE: no buffering, long-lived.
      '/api': { target: fleetService, changeOrigin: true },
      '/healthz': { target: fleetService, changeOrigin: true },
      '/readyz': { target: fleetService, changeOrigin: true },
      '/metrics': { target: fleetService, changeOrigin: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
  },
});

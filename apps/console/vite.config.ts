import { fileURLToPath, URL } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// The fleet service the dev server proxies to; AGENTBOX_DEV_PROXY points it elsewhere.
const fleetService = process.env.AGENTBOX_DEV_PROXY ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  plugins: [vue()],
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
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      output: {
        codeSplitting: {
          // Otherwise a group drags its dependencies (vue itself) along, and the login page would load echarts.
          includeDependenciesRecursively: false,
          groups: [
            { name: 'echarts', test: /node_modules[\\/](echarts|zrender|vue-echarts)[\\/]/, priority: 20 },
            {
              name: 'naive-ui',
              test: /node_modules[\\/](naive-ui|vueuc|vooks|seemly|css-render|@css-render|treemate|evtd|vdirs|date-fns|date-fns-tz|lodash-es|@juggle)[\\/]/,
              priority: 10,
            },
          ],
        },
      },
    },
  },
});

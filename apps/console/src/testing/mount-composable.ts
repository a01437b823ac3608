import { createApp, defineComponent, type App, type Plugin } from 'vue';
import { i18n } from '@/locales';

/** Runs a composable in a mounted component, as a page would, with i18n and any other plugins given. */
export function mountComposable<T>(setup: () => T, plugins: Plugin[] = []): { result: T; app: App } {
  let result: T | undefined;
  const app = createApp(
    defineComponent({
      setup() {
        result = setup();
        return () => null;
      },
    }),
  );
  app.use(i18n);
  for (const plugin of plugins) app.use(plugin);
  app.mount(document.createElement('div'));
  return { result: result as T, app };
}

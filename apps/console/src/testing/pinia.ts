import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { createApp } from 'vue';
import { storePlumbing } from '@/stores/store-plumbing';

/**
 * A fresh active pinia, with the store plumbing when asked for. Pinia applies plugins only once it is
 * installed in an app, hence the empty one.
 */
export function activeTestPinia(options: { plumbing: boolean }): Pinia {
  const pinia = createPinia();
  if (options.plumbing) pinia.use(storePlumbing);
  createApp({}).use(pinia);
  setActivePinia(pinia);
  return pinia;
}

import { onBeforeUnmount, ref, type Ref } from 'vue';

/** Below this width the header's navigation moves into a drawer behind a menu button. */
export const NARROW_SCREEN_PX = 900;

/** Whether the window is narrower than NARROW_SCREEN_PX (a phone, a split screen); follows resizes. */
export function useNarrowScreen(): Ref<boolean> {
  const query = globalThis.matchMedia?.(`(max-width: ${NARROW_SCREEN_PX - 1}px)`);
  const narrow = ref(query?.matches ?? false);
  const update = (event: MediaQueryListEvent) => (narrow.value = event.matches);
  query?.addEventListener('change', update);
  onBeforeUnmount(() => query?.removeEventListener('change', update));
  return narrow;
}

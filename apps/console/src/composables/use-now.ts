import { onScopeDispose, ref, type Ref } from 'vue';

const now = ref(Date.now());
let subscribers = 0;
let timer: ReturnType<typeof setInterval> | null = null;

/**
 * A clock shared by every "last seen 5 s ago" on screen: one interval for the whole page,
 * running only while something uses it.
 */
export function useNow(): Readonly<Ref<number>> {
  subscribers += 1;
  if (timer === null) {
    now.value = Date.now();
    timer = setInterval(() => {
      now.value = Date.now();
    }, 1000);
  }
  onScopeDispose(() => {
    subscribers -= 1;
    if (subscribers === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  });
  return now;
}

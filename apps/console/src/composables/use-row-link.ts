import type { RouteLocationRaw } from 'vue-router';
import { useRouter } from 'vue-router';

/** `row-props` of a table whose rows open a page: by click, and by Enter for keyboard users. */
export function useRowLink<T>(link: (row: T) => { to: RouteLocationRaw; testId: string }) {
  const router = useRouter();
  return (row: T) => {
    const { to, testId } = link(row);
    const open = () => void router.push(to);
    return {
      'data-testid': testId,
      style: 'cursor: pointer',
      tabindex: 0,
      onClick: open,
      onKeydown: (event: KeyboardEvent) => {
        if (event.key === 'Enter') open();
      },
    };
  };
}

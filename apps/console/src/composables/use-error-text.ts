import { useI18n } from 'vue-i18n';
import { describeError } from '@/api/errors';

/** Turns any failure into a line for the user, in the current language. */
export function useErrorText(): (error: unknown) => string {
  const i18n = useI18n();
  return (error: unknown) =>
    describeError(error, { t: (key, named) => i18n.t(key, named ?? {}), te: (key) => i18n.te(key) });
}

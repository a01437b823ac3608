import type { NDateLocale, NLocale } from 'naive-ui';
import { shallowRef } from 'vue';
import { createI18n } from 'vue-i18n';
import en, { type MessageSchema } from './en';

export const SUPPORTED_LOCALES = ['en', 'zh-CN'] as const;
export type AppLocale = (typeof SUPPORTED_LOCALES)[number];

/** Each language is offered under its own name, whatever the current language. */
export const LOCALE_NAMES: Record<AppLocale, string> = { en: 'English', 'zh-CN': '简体中文' };

/**
 * English ships with the first page (it is also every message's fallback); another language is fetched
 * when it is chosen, so the first route does not carry every language (docs/benchmarks.md, "Console").
 */
const loaders: Record<Exclude<AppLocale, 'en'>, () => Promise<{ default: MessageSchema }>> = {
  'zh-CN': () => import('./zh-CN'),
};

export const LOCALE_STORAGE_KEY = 'agentbox.locale';

function isAppLocale(value: unknown): value is AppLocale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

/** The saved choice wins; otherwise the browser's languages, first match; otherwise English. */
export function initialLocale(
  storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage,
  languages: readonly string[] = globalThis.navigator?.languages ?? [globalThis.navigator?.language ?? 'en'],
): AppLocale {
  let saved: string | null = null;
  try {
    saved = storage?.getItem(LOCALE_STORAGE_KEY) ?? null;
  } catch {
    // Storage can be blocked (private mode, sandboxed iframe): fall back to the browser language.
  }
  if (isAppLocale(saved)) return saved;
  for (const language of languages) {
    const lower = language.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'en',
  messages: { en } as Record<AppLocale, MessageSchema>,
});

/** naive-ui's own texts in Chinese, once fetched with the Chinese messages (App.vue gives them to naive-ui). */
export const naiveChinese = shallowRef<{ locale: NLocale; date: NDateLocale } | null>(null);

/** Makes `locale`'s messages available; resolves at once when they are. */
export async function loadLocale(locale: AppLocale): Promise<void> {
  if (locale === 'en' || i18n.global.availableLocales.includes(locale)) return;
  const [messages, naive] = await Promise.all([loaders[locale](), import('@/utils/naive-zh')]);
  i18n.global.setLocaleMessage(locale, messages.default);
  naiveChinese.value = naive.naiveZh;
}

export async function setLocale(locale: AppLocale): Promise<void> {
  await loadLocale(locale);
  i18n.global.locale.value = locale;
  try {
    localStorage.setItem(LOCALE_STORAGE_KEY, locale);
  } catch {
    // Not persisted; the choice still holds for this tab.
  }
  document.documentElement.lang = locale;
}

export function currentLocale(): AppLocale {
  return i18n.global.locale.value;
}

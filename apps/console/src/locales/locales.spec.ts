import { describe, expect, it } from 'vitest';
import { createI18n } from 'vue-i18n';
import en from './en';
import { initialLocale, LOCALE_STORAGE_KEY } from './index';
import zhCN from './zh-CN';

const messages = { en, 'zh-CN': zhCN };

type Tree = { [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

/** The names a message fills in; a plural message (`one | many`) may repeat them across its forms. */
function placeholders(message: string): string[] {
  return [...new Set([...message.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!))].sort();
}

describe('locales', () => {
  const english = flatten(en);
  const chinese = flatten(zhCN);

  it('has every English key in Simplified Chinese', () => {
    const missing = [...english.keys()].filter((key) => !chinese.has(key));
    expect(missing).toEqual([]);
  });

  it('has no Simplified Chinese key that English lacks', () => {
    const extra = [...chinese.keys()].filter((key) => !english.has(key));
    expect(extra).toEqual([]);
  });

  it('has no empty message', () => {
    for (const [locale, flat] of [
      ['en', english],
      ['zh-CN', chinese],
    ] as const) {
      const empty = [...flat].filter(([, value]) => value.trim() === '').map(([key]) => `${locale}:${key}`);
      expect(empty).toEqual([]);
    }
  });

  it('uses the same placeholders in both languages', () => {
    const mismatched = [...english]
      .filter(([key, value]) => placeholders(value).join() !== placeholders(chinese.get(key) ?? '').join())
      .map(([key]) => key);
    expect(mismatched).toEqual([]);
  });

  it('compiles and renders every message in both languages', () => {
    const i18n = createI18n({
      legacy: false,
      locale: 'en',
      fallbackLocale: 'en',
      messages,
      missingWarn: false,
    });
    const named = {
      ...{ role: 'r', count: 2, id: 'x', at: 'now', message: 'm', name: 'n', min: 1, max: 9, value: 'v' },
      ...{ input: 'i', output: 'o', percent: '5%', range: 'r', target: 't', times: 't', n: 1 },
      ...{ from: 1, to: 2, tag: 't' },
    };
    for (const locale of ['en', 'zh-CN'] as const) {
      i18n.global.locale.value = locale;
      const flat = locale === 'en' ? english : chinese;
      for (const key of flat.keys()) {
        const rendered = i18n.global.t(key, named);
        expect(rendered, `${locale}:${key}`).not.toBe(key);
        expect(rendered, `${locale}:${key}`).not.toMatch(/\{\w+\}/);
      }
    }
  });

  it('picks the saved language, then the browser language, then English', () => {
    const storage = (value: string | null) => ({
      getItem: (key: string) => (key === LOCALE_STORAGE_KEY ? value : null),
    });
    expect(initialLocale(storage('zh-CN'), ['en-US'])).toBe('zh-CN');
    expect(initialLocale(storage('en'), ['zh-CN'])).toBe('en');
    expect(initialLocale(storage('fr'), ['zh-TW', 'en'])).toBe('zh-CN');
    expect(initialLocale(storage(null), ['de-DE', 'en-GB'])).toBe('en');
    expect(initialLocale(storage(null), ['de-DE'])).toBe('en');
    const blocked = {
      getItem: () => {
        throw new Error('SecurityError');
      },
    };
    expect(initialLocale(blocked, ['zh'])).toBe('zh-CN');
  });
});

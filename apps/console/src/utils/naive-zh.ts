import { dateZhCN, zhCN, type NDateLocale, type NLocale } from 'naive-ui';

/** naive-ui's Chinese texts and date names, fetched with the Chinese messages (locales/index.ts). */
export const naiveZh: { locale: NLocale; date: NDateLocale } = { locale: zhCN, date: dateZhCN };

import { describe, expect, it } from 'vitest';
import { checkCron, splitInterval } from './cron';

describe('checkCron', () => {
  it('describes a schedule in English and Simplified Chinese with its next runs', () => {
    const en = checkCron('0 9 * * 1-5', 'en', 'Asia/Shanghai');
    expect(en.ok && en.description).toBe('At 09:00, Monday through Friday');
    expect(en.ok && en.next).toHaveLength(3);
    if (en.ok) for (const date of en.next) expect(date.getUTCHours()).toBe(1);
    const zh = checkCron('*/5 * * * *', 'zh-CN');
    expect(zh.ok && zh.description).toBe('每隔 5 分钟');
  });

  it('reports what is wrong with a bad expression', () => {
    const bad = checkCron('every morning', 'en');
    expect(bad.ok).toBe(false);
    expect(checkCron('  ', 'en')).toEqual({ ok: false, error: 'empty' });
  });
});

describe('splitInterval', () => {
  it('uses the largest whole unit', () => {
    expect(splitInterval(90)).toEqual({ value: 90, unit: 's' });
    expect(splitInterval(300)).toEqual({ value: 5, unit: 'min' });
    expect(splitInterval(7200)).toEqual({ value: 2, unit: 'h' });
    expect(splitInterval(172_800)).toEqual({ value: 2, unit: 'd' });
  });
});

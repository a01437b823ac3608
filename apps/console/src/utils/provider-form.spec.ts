import { describe, expect, it } from 'vitest';
import {
  applyPreset,
  emptyProviderForm,
  PROVIDER_PRESETS,
  toCreateBody,
  toUpdateBody,
} from './provider-form';

const preset = (key: string) => PROVIDER_PRESETS.find((p) => p.key === key)!;

describe('provider form', () => {
  it('fills a new provider from a preset without overwriting what was typed', () => {
    const form = applyPreset({ ...emptyProviderForm(), name: 'My DeepSeek' }, preset('deepseek'), true);
    expect(form).toMatchObject({
      id: 'deepseek',
      name: 'My DeepSeek',
      baseUrl: 'https://api.deepseek.com/v1',
      models: ['deepseek-chat', 'deepseek-reasoner'],
    });
    const result = toCreateBody({ ...form, apiKey: ' sk-123 ' });
    expect(result).toEqual({
      ok: true,
      body: {
        id: 'deepseek',
        kind: 'openai-compatible',
        name: 'My DeepSeek',
        baseUrl: 'https://api.deepseek.com/v1',
        models: ['deepseek-chat', 'deepseek-reasoner'],
        apiKey: 'sk-123',
      },
    });
  });

  it('every preset is a valid provider', () => {
    for (const p of PROVIDER_PRESETS) {
      const result = toCreateBody(applyPreset(emptyProviderForm(), p, true));
      expect(result.ok, p.key).toBe(true);
    }
  });

  it('refuses a bad id and URL with field kinds', () => {
    const result = toCreateBody({ ...emptyProviderForm(), id: 'Deep Seek', name: 'x', baseUrl: 'ftp://x' });
    expect(result.ok ? [] : result.issues.map((i) => `${i.path}:${i.kind}`).sort()).toEqual([
      'baseUrl:url',
      'id:slug',
    ]);
  });

  it('keeps, replaces or removes the stored key', () => {
    const base = {
      ...emptyProviderForm(),
      id: 'deepseek',
      name: 'DeepSeek',
      baseUrl: 'https://api.deepseek.com/v1',
    };
    const keep = toUpdateBody({ ...base, keyAction: 'keep', apiKey: 'typed but not meant' });
    expect(keep.ok && 'apiKey' in keep.body).toBe(false);
    const replace = toUpdateBody({ ...base, keyAction: 'replace', apiKey: 'sk-new' });
    expect(replace.ok && replace.body.apiKey).toBe('sk-new');
    const remove = toUpdateBody({ ...base, keyAction: 'remove' });
    expect(remove.ok && remove.body.apiKey).toBeNull();
    const empty = toUpdateBody({ ...base, keyAction: 'replace', apiKey: ' ' });
    expect(empty.ok ? [] : empty.issues.map((i) => `${i.path}:${i.kind}`)).toEqual(['apiKey:required']);
  });
});

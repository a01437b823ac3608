import { ProviderCreateRequestSchema, ProviderUpdateRequestSchema } from '@agentbox/schemas';
import type { ProviderCreateBody, ProviderUpdateBody } from '@/api/types';
import { fieldIssues, type FieldIssue } from './field-issues';

/** Well-known OpenAI-compatible endpoints, offered as starting points in the provider form. */
export interface ProviderPreset {
  key: string;
  id: string;
  name: string;
  baseUrl: string;
  models: string[];
  /** Local servers usually run without a key. */
  needsKey: boolean;
}

export const PROVIDER_PRESETS: readonly ProviderPreset[] = [
  {
    key: 'deepseek',
    id: 'deepseek',
    name: 'DeepSeek',
    baseUrl: 'https://api.deepseek.com/v1',
    models: ['deepseek-chat', 'deepseek-reasoner'],
    needsKey: true,
  },
  {
    key: 'qwen',
    id: 'qwen',
    name: 'Qwen (DashScope)',
    baseUrl: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
    models: ['qwen-plus', 'qwen-max', 'qwen-turbo'],
    needsKey: true,
  },
  {
    key: 'moonshot',
    id: 'moonshot',
    name: 'Moonshot',
    baseUrl: 'https://api.moonshot.cn/v1',
    models: ['moonshot-v1-8k', 'moonshot-v1-32k', 'moonshot-v1-128k'],
    needsKey: true,
  },
  {
    key: 'ollama',
    id: 'ollama',
    name: 'Ollama (on the box)',
    baseUrl: 'http://127.0.0.1:11434/v1',
    models: ['qwen2.5:7b', 'llama3.2:3b'],
    needsKey: false,
  },
  {
    key: 'vllm',
    id: 'vllm',
    name: 'vLLM',
    baseUrl: 'http://127.0.0.1:8000/v1',
    models: [],
    needsKey: false,
  },
  {
    key: 'llamacpp',
    id: 'llama-cpp',
    name: 'llama.cpp server',
    baseUrl: 'http://127.0.0.1:8080/v1',
    models: [],
    needsKey: false,
  },
];

/** What happens to the stored key on save. */
export type KeyAction = 'keep' | 'replace' | 'remove';

export interface ProviderForm {
  id: string;
  name: string;
  baseUrl: string;
  models: string[];
  apiKey: string;
  keyAction: KeyAction;
}

export function emptyProviderForm(): ProviderForm {
  return { id: '', name: '', baseUrl: '', models: [], apiKey: '', keyAction: 'replace' };
}

export function applyPreset(form: ProviderForm, preset: ProviderPreset, creating: boolean): ProviderForm {
  return {
    ...form,
    ...(creating && form.id.trim() === '' ? { id: preset.id } : {}),
    name: form.name.trim() === '' ? preset.name : form.name,
    baseUrl: preset.baseUrl,
    models: form.models.length > 0 ? form.models : [...preset.models],
  };
}

export type ProviderFormResult<T> = { ok: true; body: T } | { ok: false; issues: FieldIssue[] };

const cleanModels = (models: readonly string[]) => [
  ...new Set(models.map((model) => model.trim()).filter((model) => model !== '')),
];

export function toCreateBody(form: ProviderForm): ProviderFormResult<ProviderCreateBody> {
  const body: ProviderCreateBody = {
    id: form.id.trim(),
    kind: 'openai-compatible',
    name: form.name.trim(),
    baseUrl: form.baseUrl.trim(),
    models: cleanModels(form.models),
    ...(form.apiKey.trim() !== '' ? { apiKey: form.apiKey.trim() } : {}),
  };
  const parsed = ProviderCreateRequestSchema.safeParse(body);
  return parsed.success ? { ok: true, body } : { ok: false, issues: fieldIssues(parsed.error.issues) };
}

/**
 * The key is write-only: absent keeps the stored one, a string replaces it, null removes it.
 * Every other field is sent whole: the update schema fills a left-out `models` with its default (an
 * empty list), so leaving it out would clear it.
 */
export function toUpdateBody(form: ProviderForm): ProviderFormResult<ProviderUpdateBody> {
  const body: ProviderUpdateBody = {
    kind: 'openai-compatible',
    name: form.name.trim(),
    baseUrl: form.baseUrl.trim(),
    models: cleanModels(form.models),
  };
  if (form.keyAction === 'remove') body.apiKey = null;
  if (form.keyAction === 'replace') {
    if (form.apiKey.trim() === '') {
      return {
        ok: false,
        issues: [{ path: 'apiKey', kind: 'required', params: {}, message: 'Enter the new key' }],
      };
    }
    body.apiKey = form.apiKey.trim();
  }
  const parsed = ProviderUpdateRequestSchema.safeParse(body);
  return parsed.success ? { ok: true, body } : { ok: false, issues: fieldIssues(parsed.error.issues) };
}

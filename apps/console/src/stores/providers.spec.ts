// @vitest-environment node
import { ProviderCreateRequestSchema, ProviderUpdateRequestSchema } from '@agentbox/schemas';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { Provider } from '@/api/types';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { useProvidersStore } from './providers';

const kind = 'openai-compatible' as const;
const deepseek = {
  id: 'deepseek',
  kind,
  name: 'DeepSeek',
  baseUrl: 'https://api.deepseek.com/v1',
  models: ['deepseek-chat'],
};

describe('providers store', () => {
  let server: FleetServer;
  let providers: Record<string, Provider & { key: string | null }>;
  const inUse = new Set<string>();

  const dto = ({ key, ...p }: Provider & { key: string | null }): Provider => ({
    ...p,
    hasApiKey: key !== null,
  });

  useFleetServer((fleet) => {
    providers = {};
    inUse.clear();
    server = fleet;
    server.route('GET', '/api/v1/providers', () => ({
      status: 200,
      body: Object.values(providers).map(dto),
    }));
    server.route('POST', '/api/v1/providers', (_req, _url, body) => {
      const parsed = ProviderCreateRequestSchema.safeParse(JSON.parse(body));
      if (!parsed.success)
        return {
          status: 400,
          body: { statusCode: 400, code: 'VALIDATION_FAILED', message: parsed.error.message },
        };
      const { apiKey, ...rest } = parsed.data;
      const now = new Date().toISOString();
      providers[rest.id] = {
        ...rest,
        version: 1,
        hasApiKey: false,
        key: apiKey ?? null,
        createdAt: now,
        updatedAt: now,
      };
      return { status: 201, body: dto(providers[rest.id]!) };
    });
    for (const id of ['deepseek', 'ollama']) {
      server.route('PATCH', `/api/v1/providers/${id}`, (_req, _url, body) => {
        const parsed = ProviderUpdateRequestSchema.safeParse(JSON.parse(body));
        const current = providers[id];
        if (!current)
          return { status: 404, body: { statusCode: 404, code: 'PROVIDER_NOT_FOUND', message: id } };
        if (!parsed.success)
          return {
            status: 400,
            body: { statusCode: 400, code: 'VALIDATION_FAILED', message: parsed.error.message },
          };
        const { apiKey, ...rest } = parsed.data;
        const key = apiKey === undefined ? current.key : apiKey;
        providers[id] = { ...current, ...rest, key, version: current.version + 1 };
        return { status: 200, body: dto(providers[id]) };
      });
      server.route('DELETE', `/api/v1/providers/${id}`, () => {
        if (inUse.has(id))
          return {
            status: 409,
            body: { statusCode: 409, code: 'PROVIDER_IN_USE', message: 'agent daily-report' },
          };
        delete providers[id];
        return { status: 204 };
      });
    }
  });

  it('creates a provider with a write-only key and lists it sorted by name without the key', async () => {
    const sut = useProvidersStore();
    await sut.create({
      id: 'ollama',
      kind,
      name: 'Ollama',
      baseUrl: 'http://127.0.0.1:11434/v1',
      models: ['qwen2.5:7b'],
    });
    await sut.create({
      id: 'deepseek',
      kind,
      name: 'DeepSeek',
      baseUrl: 'https://api.deepseek.com/v1',
      models: ['deepseek-chat'],
      apiKey: 'sk-secret',
    });
    setActivePinia(createPinia());
    const fresh = useProvidersStore();
    await fresh.fetchAll();
    expect(fresh.all.map((p) => p.id)).toEqual(['deepseek', 'ollama']);
    expect(fresh.get('deepseek')?.hasApiKey).toBe(true);
    expect(fresh.get('ollama')?.hasApiKey).toBe(false);
    expect(JSON.stringify(fresh.all)).not.toContain('sk-secret');
  });

  it('keeps the key when the update leaves it out, replaces it, and removes it with null', async () => {
    const sut = useProvidersStore();
    await sut.create({ ...deepseek, apiKey: 'sk-1' });

    // The update body carries every field (see toUpdateBody); only the key is write-only.
    const whole = { kind, name: 'DeepSeek V3', baseUrl: deepseek.baseUrl, models: ['deepseek-chat'] };
    await sut.update('deepseek', whole);
    expect(providers.deepseek?.key).toBe('sk-1');
    expect(sut.get('deepseek')).toMatchObject({ name: 'DeepSeek V3', version: 2, hasApiKey: true });

    await sut.update('deepseek', { ...whole, apiKey: 'sk-2' });
    expect(providers.deepseek?.key).toBe('sk-2');

    await sut.update('deepseek', { ...whole, apiKey: null });
    expect(providers.deepseek?.key).toBeNull();
    expect(sut.get('deepseek')?.hasApiKey).toBe(false);
  });

  it('keeps a provider an agent still uses and reports why', async () => {
    const sut = useProvidersStore();
    await sut.create(deepseek);
    inUse.add('deepseek');
    await expect(sut.remove('deepseek')).rejects.toMatchObject({ code: 'PROVIDER_IN_USE', statusCode: 409 });
    expect(sut.get('deepseek')).toBeDefined();
    inUse.clear();
    await sut.remove('deepseek');
    expect(sut.count).toBe(0);
  });
});

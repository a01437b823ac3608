import { AgentDefinitionSchema } from '@agentbox/schemas';
import { describe, expect, it } from 'vitest';
import {
  emptyAgentForm,
  formFromAgent,
  newTool,
  newTrigger,
  toDefinitionInput,
  validateAgentForm,
  type AgentForm,
} from './agent-form';
import { issuesAt } from './field-issues';

function filled(): AgentForm {
  return {
    ...emptyAgentForm(),
    id: 'daily-report',
    name: 'Daily report',
    instructions: 'Summarise the box health.',
    model: { provider: 'deepseek', model: 'deepseek-chat' },
  };
}

const kinds = (form: AgentForm, mode: 'create' | 'edit' = 'create') => {
  const result = validateAgentForm(form, mode);
  return result.ok ? [] : result.issues.map((i) => `${i.path}:${i.kind}`);
};

describe('agent form', () => {
  it('starts from the schema defaults', () => {
    const parsed = AgentDefinitionSchema.parse({
      name: 'x',
      instructions: 'y',
      model: { provider: 'p', model: 'm' },
    });
    const form = emptyAgentForm();
    expect(form.budget).toEqual(parsed.budget);
    expect(form.limits).toEqual(parsed.limits);
    expect(form.concurrency).toEqual(parsed.concurrency);
    // No history budget of its own: the box's default applies, and none is sent.
    expect(form.history.maxTokens).toBeNull();
    expect(toDefinitionInput(filled()).history).toBeUndefined();
    // Older turns are summarized unless turned off, which is sent even without a budget of its own.
    const unsummarized = filled();
    unsummarized.history.summarize = false;
    expect(toDefinitionInput(unsummarized).history).toEqual({ summarize: false });
    expect(form.triggers.map((t) => t.type)).toEqual(parsed.triggers.map((t) => t.type));
  });

  it('names each missing or malformed field with a translatable kind', () => {
    expect(kinds(emptyAgentForm())).toEqual(
      expect.arrayContaining([
        'id:slug',
        'name:required',
        'instructions:required',
        'model.provider:slug',
        'model.model:required',
      ]),
    );
    const form = filled();
    form.id = 'Daily Report';
    form.budget.tokensPerDay = 0;
    form.limits.memoryMb = 8;
    form.tools = [{ ...newTool('http.fetch'), allowHosts: ['api.example.com', 'not a host'] }];
    form.triggers = [{ ...newTrigger('interval'), everySec: null }];
    expect(kinds(form)).toEqual([
      'id:slug',
      'tools.0.allowHosts.1:host',
      'triggers.0.everySec:required',
      'budget.tokensPerDay:min',
      'limits.memoryMb:min',
    ]);
    const result = validateAgentForm(form, 'create');
    expect(result.ok ? [] : issuesAt(result.issues, 'tools.0.allowHosts').map((i) => i.path)).toEqual([
      'tools.0.allowHosts.1',
    ]);
  });

  it('wants at least one allowed host for http.fetch', () => {
    const form = filled();
    form.tools = [{ ...newTool('http.fetch'), allowHosts: ['  '] }];
    expect(kinds(form)).toEqual(['tools.0.allowHosts:minItems']);
  });

  it('checks cron expressions with the scheduler the boxes use', () => {
    const form = filled();
    form.triggers = [
      { ...newTrigger('cron'), expression: '61 * * * * *' },
      { ...newTrigger('cron'), expression: '*/5 * * * *' },
    ];
    const result = validateAgentForm(form, 'create');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((i) => `${i.path}:${i.kind}`)).toEqual([
      'triggers.0.expression:cron',
    ]);
  });

  it('round-trips a stored definition through the form unchanged', () => {
    const definition = AgentDefinitionSchema.parse({
      name: 'Watcher',
      description: 'Keeps an eye on things',
      instructions: 'Watch.',
      model: { provider: 'qwen', model: 'qwen-plus' },
      fallbacks: [{ provider: 'deepseek', model: 'deepseek-chat' }],
      tools: [
        { tool: 'http.fetch', allowHosts: ['*.example.com'], timeoutMs: 5000 },
        { tool: 'files.write', maxBytes: 1000 },
        { tool: 'memory' },
      ],
      triggers: [
        { type: 'cron', expression: '0 9 * * 1-5', timezone: 'Asia/Shanghai', input: 'Morning report' },
        { type: 'interval', everySec: 600 },
        { type: 'message' },
        { type: 'webhook' },
      ],
      budget: { tokensPerDay: 50_000 },
      concurrency: { maxParallel: 4, onBusy: 'reject' },
      history: { maxTokens: 8000 },
    });
    const form = formFromAgent('watcher', definition);
    expect(AgentDefinitionSchema.parse(toDefinitionInput(form))).toEqual(definition);
    const result = validateAgentForm(form, 'edit');
    expect(result.ok && result.definition).toEqual(definition);
  });

  it('leaves out fields a trigger or tool type does not have', () => {
    const form = filled();
    form.tools = [{ ...newTool('memory'), allowHosts: ['x.example.com'], maxBytes: 5 }];
    form.triggers = [{ ...newTrigger('message'), expression: '* * * * *', input: 'ignored' }];
    const input = toDefinitionInput(form);
    expect(input.tools).toEqual([{ tool: 'memory' }]);
    expect(input.triggers).toEqual([{ type: 'message' }]);
  });
});

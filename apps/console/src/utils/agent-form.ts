import {
  AgentCreateRequestSchema,
  AgentUpdateRequestSchema,
  BUSY_STRATEGIES,
  type AgentDefinition,
  type AgentDefinitionInput,
  type ToolId,
} from '@agentbox/schemas';
import { Cron } from 'croner';
import { fieldIssues, type FieldIssue } from './field-issues';

export type BusyStrategy = (typeof BUSY_STRATEGIES)[number];
export type TriggerType = 'cron' | 'interval' | 'message' | 'webhook';
export const TRIGGER_TYPES: readonly TriggerType[] = ['message', 'cron', 'interval', 'webhook'];

/** Tools with settings of their own; the others are granted as they are. */
export const TOOL_SETTINGS: Record<ToolId, readonly ('allowHosts' | 'maxBytes' | 'timeoutMs')[]> = {
  'http.fetch': ['allowHosts', 'maxBytes', 'timeoutMs'],
  'mqtt.publish': [],
  'files.read': ['maxBytes'],
  'files.write': ['maxBytes'],
  memory: [],
  notify: [],
};

export interface FormModelRef {
  provider: string | null;
  model: string;
}
export interface FormTool {
  tool: ToolId;
  allowHosts: string[];
  maxBytes: number | null;
  timeoutMs: number | null;
}
/** One shape for every trigger type, so switching the type in the form keeps what was typed. */
export interface FormTrigger {
  type: TriggerType;
  expression: string;
  timezone: string;
  everySec: number | null;
  input: string;
}

/** What the agent form edits; `toDefinitionInput` turns it into the wire shape. */
export interface AgentForm {
  id: string;
  name: string;
  description: string;
  instructions: string;
  model: FormModelRef;
  fallbacks: FormModelRef[];
  tools: FormTool[];
  triggers: FormTrigger[];
  budget: { tokensPerDay: number | null; tokensPerRun: number | null };
  limits: {
    maxSteps: number | null;
    runTimeoutSec: number | null;
    memoryMb: number | null;
    maxOutputTokens: number | null;
  };
  concurrency: { maxParallel: number | null; onBusy: BusyStrategy; queueSize: number | null };
  /** Tokens of earlier conversation turns a run gets (null: the box's default), and whether older ones are summarized. */
  history: { maxTokens: number | null; summarize: boolean };
}

export function newTrigger(type: TriggerType): FormTrigger {
  return { type, expression: '0 9 * * *', timezone: '', everySec: 3600, input: '' };
}

export function newTool(tool: ToolId): FormTool {
  return { tool, allowHosts: [], maxBytes: null, timeoutMs: null };
}

/** A new agent with the schema's defaults filled in, so the form shows what will apply. */
export function emptyAgentForm(): AgentForm {
  return {
    id: '',
    name: '',
    description: '',
    instructions: '',
    model: { provider: null, model: '' },
    fallbacks: [],
    tools: [],
    triggers: [newTrigger('message')],
    budget: { tokensPerDay: 200_000, tokensPerRun: 20_000 },
    limits: { maxSteps: 8, runTimeoutSec: 300, memoryMb: 256, maxOutputTokens: 1_024 },
    concurrency: { maxParallel: 1, onBusy: 'enqueue', queueSize: 10 },
    history: { maxTokens: null, summarize: true },
  };
}

export function formFromAgent(id: string, definition: AgentDefinition): AgentForm {
  return {
    id,
    name: definition.name,
    description: definition.description,
    instructions: definition.instructions,
    model: { ...definition.model },
    fallbacks: definition.fallbacks.map((ref) => ({ ...ref })),
    tools: definition.tools.map((grant) => ({
      tool: grant.tool,
      allowHosts: 'allowHosts' in grant ? [...grant.allowHosts] : [],
      maxBytes: 'maxBytes' in grant ? grant.maxBytes : null,
      timeoutMs: 'timeoutMs' in grant ? grant.timeoutMs : null,
    })),
    triggers: definition.triggers.map((trigger) => {
      const base = newTrigger(trigger.type);
      switch (trigger.type) {
        case 'cron':
          return {
            ...base,
            expression: trigger.expression,
            timezone: trigger.timezone ?? '',
            input: trigger.input ?? '',
          };
        case 'interval':
          return { ...base, everySec: trigger.everySec, input: trigger.input ?? '' };
        case 'message':
        case 'webhook':
          return base;
      }
    }),
    budget: { ...definition.budget },
    limits: { ...definition.limits },
    concurrency: { ...definition.concurrency },
    history: {
      maxTokens: definition.history?.maxTokens ?? null,
      summarize: definition.history?.summarize ?? true,
    },
  };
}

const optionalText = (value: string) => (value.trim() === '' ? undefined : value);
const optionalNumber = (value: number | null) => value ?? undefined;

function toolInput(tool: FormTool): NonNullable<AgentDefinitionInput['tools']>[number] {
  switch (tool.tool) {
    case 'http.fetch':
      return {
        tool: tool.tool,
        allowHosts: tool.allowHosts.map((host) => host.trim()).filter((host) => host !== ''),
        maxBytes: optionalNumber(tool.maxBytes),
        timeoutMs: optionalNumber(tool.timeoutMs),
      };
    case 'files.read':
    case 'files.write':
      return { tool: tool.tool, maxBytes: optionalNumber(tool.maxBytes) };
    case 'mqtt.publish':
    case 'memory':
    case 'notify':
      return { tool: tool.tool };
  }
}

function triggerInput(trigger: FormTrigger): NonNullable<AgentDefinitionInput['triggers']>[number] {
  switch (trigger.type) {
    case 'cron':
      return {
        type: 'cron',
        expression: trigger.expression.trim(),
        timezone: optionalText(trigger.timezone.trim()),
        input: optionalText(trigger.input),
      };
    case 'interval':
      // A cleared number field is sent as missing, so the schema reports it as required.
      return {
        type: 'interval',
        everySec: trigger.everySec as number,
        input: optionalText(trigger.input),
      };
    case 'message':
      return { type: 'message' };
    case 'webhook':
      return { type: 'webhook' };
  }
}

export function toDefinitionInput(form: AgentForm): AgentDefinitionInput {
  return {
    name: form.name.trim(),
    description: form.description,
    instructions: form.instructions,
    model: { provider: form.model.provider ?? '', model: form.model.model.trim() },
    fallbacks: form.fallbacks.map((ref) => ({ provider: ref.provider ?? '', model: ref.model.trim() })),
    tools: form.tools.map(toolInput),
    triggers: form.triggers.map(triggerInput),
    budget: {
      tokensPerDay: optionalNumber(form.budget.tokensPerDay),
      tokensPerRun: optionalNumber(form.budget.tokensPerRun),
    },
    limits: {
      maxSteps: optionalNumber(form.limits.maxSteps),
      runTimeoutSec: optionalNumber(form.limits.runTimeoutSec),
      memoryMb: optionalNumber(form.limits.memoryMb),
      maxOutputTokens: optionalNumber(form.limits.maxOutputTokens),
    },
    concurrency: {
      maxParallel: optionalNumber(form.concurrency.maxParallel),
      onBusy: form.concurrency.onBusy,
      queueSize: optionalNumber(form.concurrency.queueSize),
    },
    ...(form.history.maxTokens !== null || !form.history.summarize
      ? {
          history: {
            ...(form.history.maxTokens !== null ? { maxTokens: form.history.maxTokens } : {}),
            summarize: form.history.summarize,
          },
        }
      : {}),
  };
}

export type AgentFormResult =
  { ok: true; id: string; definition: AgentDefinition } | { ok: false; issues: FieldIssue[] };

/**
 * Validates the form with the same schemas the fleet service uses (AgentCreateRequestSchema when
 * creating, AgentUpdateRequestSchema for a new version), plus cron expressions with croner, which
 * the boxes schedule with.
 */
export function validateAgentForm(form: AgentForm, mode: 'create' | 'edit'): AgentFormResult {
  const definition = toDefinitionInput(form);
  const parsed =
    mode === 'create'
      ? AgentCreateRequestSchema.safeParse({ id: form.id.trim(), definition })
      : AgentUpdateRequestSchema.safeParse({ definition });
  // The create request nests the definition; the form has its fields at the top.
  const issues: FieldIssue[] = parsed.success
    ? []
    : fieldIssues(parsed.error.issues, ([head, ...rest]) =>
        head === 'definition' ? rest.join('.') : [head, ...rest].join('.'),
      );
  form.triggers.forEach((trigger, i) => {
    if (trigger.type !== 'cron' || trigger.expression.trim().length < 9) return;
    try {
      new Cron(trigger.expression.trim(), {
        paused: true,
        ...(trigger.timezone.trim() ? { timezone: trigger.timezone.trim() } : {}),
      }).stop();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      issues.push({ path: `triggers.${i}.expression`, kind: 'cron', params: { message }, message });
    }
  });
  if (issues.length > 0 || !parsed.success) return { ok: false, issues };
  return { ok: true, id: form.id.trim(), definition: parsed.data.definition };
}

import { z } from 'zod';
import type { AgentDefinition, ToolGrant, ToolId } from '@agentbox/schemas';
import type { InstalledAgent, ToolCall, ToolSpec } from '../agents.contracts.js';
import type { MemoryStore } from '../store/memory-store.js';
import { AgentFiles, agentFilesDir } from './files-tool.js';
import { httpFetch } from './http-fetch-tool.js';

export interface ToolContext {
  agent: InstalledAgent;
  runId: string;
}

export type ToolOutcome = { ok: true; output: unknown } | { ok: false; error: string };

export interface AgentNotification {
  title?: string;
  message: string;
  level: 'info' | 'warning' | 'error';
}

export interface ToolHostOptions {
  /** The device agent's state directory; agents' files live in `<stateDir>/agents/<agentId>/files`. */
  stateDir: string;
  memory: MemoryStore;
  /** `mqtt.publish`: sends the payload to the cloud as an event of this agent. */
  publish: (agentId: string, payload: unknown, context: ToolContext) => void | Promise<void>;
  /** `notify`: an event shown in the console. */
  notify: (agentId: string, notification: AgentNotification, context: ToolContext) => void | Promise<void>;
  /** Longest text a tool hands back to the model (an HTTP body, a file); the rest is cut. */
  maxResultChars?: number;
  /** Largest `mqtt.publish` payload, as JSON. */
  maxPublishBytes?: number;
}

/** The names the model sees: function names may not contain dots, so `http.fetch` is offered as `http_fetch`. */
export const TOOL_FUNCTION_NAMES: Record<ToolId, string> = {
  'http.fetch': 'http_fetch',
  'mqtt.publish': 'mqtt_publish',
  'files.read': 'files_read',
  'files.write': 'files_write',
  memory: 'memory',
  notify: 'notify',
};

const TOOL_BY_FUNCTION_NAME = new Map(
  Object.entries(TOOL_FUNCTION_NAMES).map(([id, name]) => [name, id as ToolId]),
);

/** The catalog id of a tool from the name the model used (or the id itself); undefined when unknown. */
export function toolIdOf(name: string): ToolId | undefined {
  if (TOOL_BY_FUNCTION_NAME.has(name)) return TOOL_BY_FUNCTION_NAME.get(name);
  return name in TOOL_FUNCTION_NAMES ? (name as ToolId) : undefined;
}

const HttpFetchInputSchema = z.strictObject({
  url: z.string().min(1).max(4_000),
  method: z.enum(['GET', 'POST']).default('GET'),
  headers: z.record(z.string().max(200), z.string().max(4_000)).optional(),
  body: z.string().max(1_000_000).optional(),
});
const MqttPublishInputSchema = z.strictObject({ payload: z.unknown() });
const FilesReadInputSchema = z.strictObject({ path: z.string() });
const FilesWriteInputSchema = z.strictObject({ path: z.string(), content: z.string() });
const MemoryInputSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('get'), key: z.string().min(1) }),
  z.strictObject({ op: z.literal('set'), key: z.string().min(1), value: z.string() }),
  z.strictObject({ op: z.literal('delete'), key: z.string().min(1) }),
  z.strictObject({ op: z.literal('list'), prefix: z.string().optional() }),
]);
const NotifyInputSchema = z.strictObject({
  message: z.string().min(1).max(2_000),
  title: z.string().max(200).optional(),
  level: z.enum(['info', 'warning', 'error']).default('info'),
});

const SPECS: Record<ToolId, (grant: ToolGrant) => Omit<ToolSpec, 'name'>> = {
  'http.fetch': (grant) => ({
    description:
      'Fetches a URL with GET or POST and returns the status and the response text. Only these hosts ' +
      `are allowed: ${grant.tool === 'http.fetch' ? grant.allowHosts.join(', ') : ''}.`,
    inputSchema: {
      type: 'object',
      properties: {
        url: { type: 'string', description: 'An absolute http(s) URL.' },
        method: { type: 'string', enum: ['GET', 'POST'], default: 'GET' },
        headers: { type: 'object', additionalProperties: { type: 'string' } },
        body: { type: 'string', description: 'Request body, for POST.' },
      },
      required: ['url'],
      additionalProperties: false,
    },
  }),
  'mqtt.publish': () => ({
    description: 'Publishes a result (any JSON value) to the cloud as an event of this agent.',
    inputSchema: {
      type: 'object',
      properties: { payload: { description: 'The JSON value to publish.' } },
      required: ['payload'],
      additionalProperties: false,
    },
  }),
  'files.read': () => ({
    description:
      "Reads a text file from the agent's own files directory (or lists a directory; use '.' for the top).",
    inputSchema: {
      type: 'object',
      properties: { path: { type: 'string', description: 'A relative path, e.g. notes/today.md' } },
      required: ['path'],
      additionalProperties: false,
    },
  }),
  'files.write': () => ({
    description: "Writes (replaces) a text file in the agent's own files directory.",
    inputSchema: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'A relative path, e.g. notes/today.md' },
        content: { type: 'string' },
      },
      required: ['path', 'content'],
      additionalProperties: false,
    },
  }),
  memory: () => ({
    description:
      'Key-value memory kept across runs: op "get" (key), "set" (key, value), "delete" (key) or "list" (optional prefix).',
    inputSchema: {
      type: 'object',
      properties: {
        op: { type: 'string', enum: ['get', 'set', 'delete', 'list'] },
        key: { type: 'string' },
        value: { type: 'string' },
        prefix: { type: 'string' },
      },
      required: ['op'],
      additionalProperties: false,
    },
  }),
  notify: () => ({
    description: "Sends a notification to the box's owner, shown in the console.",
    inputSchema: {
      type: 'object',
      properties: {
        message: { type: 'string' },
        title: { type: 'string' },
        level: { type: 'string', enum: ['info', 'warning', 'error'], default: 'info' },
      },
      required: ['message'],
      additionalProperties: false,
    },
  }),
};

/**
 * Runs tool calls for agents, in the device agent's process: each tool only when the agent's
 * definition grants it, with the grant's limits. A refused or failing call comes back as
 * `{ok: false, error}` for the model to read; `execute` never throws.
 */
export class ToolHost {
  private readonly maxResultChars: number;
  private readonly maxPublishBytes: number;

  constructor(private readonly options: ToolHostOptions) {
    this.maxResultChars = options.maxResultChars ?? 20_000;
    this.maxPublishBytes = options.maxPublishBytes ?? 64 * 1024;
  }

  /** The tools to offer the model for this definition, under function-safe names. */
  specsFor(definition: AgentDefinition): ToolSpec[] {
    return definition.tools.map((grant) => ({
      name: TOOL_FUNCTION_NAMES[grant.tool],
      ...SPECS[grant.tool](grant),
    }));
  }

  async execute(context: ToolContext, call: ToolCall): Promise<ToolOutcome> {
    const toolId = toolIdOf(call.name);
    if (!toolId) return { ok: false, error: `there is no tool named ${call.name}` };
    const grant = context.agent.definition.tools.find((candidate) => candidate.tool === toolId);
    if (!grant) return { ok: false, error: `the tool ${toolId} is not granted to this agent` };
    try {
      return { ok: true, output: await this.run(context, grant, call.input) };
    } catch (error) {
      if (error instanceof z.ZodError) {
        const issues = error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
        return { ok: false, error: `invalid input for ${toolId}: ${issues.join('; ')}` };
      }
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  private async run(context: ToolContext, grant: ToolGrant, rawInput: unknown): Promise<unknown> {
    const agentId = context.agent.id;
    switch (grant.tool) {
      case 'http.fetch':
        return httpFetch(HttpFetchInputSchema.parse(rawInput), grant, this.maxResultChars);
      case 'mqtt.publish': {
        const { payload } = MqttPublishInputSchema.parse(rawInput);
        const size = Buffer.byteLength(JSON.stringify(payload ?? null));
        if (size > this.maxPublishBytes) {
          throw new Error(
            `the payload is ${size} bytes as JSON; at most ${this.maxPublishBytes} may be published`,
          );
        }
        await this.options.publish(agentId, payload ?? null, context);
        return { published: true };
      }
      case 'files.read': {
        const { path } = FilesReadInputSchema.parse(rawInput);
        const result = await this.files(agentId).read(path, grant.maxBytes);
        if ('content' in result && result.content.length > this.maxResultChars) {
          return { ...result, content: result.content.slice(0, this.maxResultChars), truncated: true };
        }
        return result;
      }
      case 'files.write': {
        const { path, content } = FilesWriteInputSchema.parse(rawInput);
        return this.files(agentId).write(path, content, grant.maxBytes);
      }
      case 'memory': {
        const input = MemoryInputSchema.parse(rawInput);
        switch (input.op) {
          case 'get':
            return { key: input.key, value: this.options.memory.get(agentId, input.key) ?? null };
          case 'set':
            this.options.memory.set(agentId, input.key, input.value);
            return { key: input.key, stored: true };
          case 'delete':
            return { key: input.key, deleted: this.options.memory.delete(agentId, input.key) };
          case 'list':
            return { keys: this.options.memory.keys(agentId, input.prefix ?? '') };
        }
        break;
      }
      case 'notify': {
        const input = NotifyInputSchema.parse(rawInput);
        await this.options.notify(
          agentId,
          { message: input.message, level: input.level, ...(input.title ? { title: input.title } : {}) },
          context,
        );
        return { notified: true };
      }
    }
  }

  private files(agentId: string): AgentFiles {
    return new AgentFiles(agentFilesDir(this.options.stateDir, agentId));
  }
}

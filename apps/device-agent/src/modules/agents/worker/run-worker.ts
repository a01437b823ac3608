/**
 * The run worker: one child process per agent run, forked by the AgentSupervisor. It holds the
 * conversation and runs the agent loop; every model call and tool call goes to the parent over IPC,
 * where budgets, metering and tool grants are enforced. Deliberately free of imports beyond types,
 * so a run costs one bare Node.js process.
 */
import type { ChatMessage, ToolCall } from '../agents.contracts.js';
import type {
  ParentToWorker,
  WorkerModelResult,
  WorkerStart,
  WorkerToParent,
  WorkerToolResult,
} from './ipc.js';

type Pending = {
  resolve: (message: WorkerModelResult | WorkerToolResult) => void;
};

let nextRequestId = 0;
let pending: { id: number; waiter: Pending } | undefined;

function send(message: WorkerToParent): void {
  process.send?.(message);
}

type WorkerRequest =
  | Omit<Extract<WorkerToParent, { type: 'model' }>, 'requestId'>
  | Omit<Extract<WorkerToParent, { type: 'tool' }>, 'requestId'>;

function request(message: WorkerRequest) {
  const requestId = nextRequestId++;
  return new Promise<WorkerModelResult | WorkerToolResult>((resolve) => {
    pending = { id: requestId, waiter: { resolve } };
    send({ ...message, requestId });
  });
}

async function askModel(messages: ChatMessage[]): Promise<WorkerModelResult> {
  const reply = await request({ type: 'model', messages });
  if (reply.type !== 'model-result') throw new Error(`expected a model result, got ${reply.type}`);
  return reply;
}

async function runTool(call: ToolCall): Promise<WorkerToolResult['outcome']> {
  const reply = await request({ type: 'tool', call });
  if (reply.type !== 'tool-result') throw new Error(`expected a tool result, got ${reply.type}`);
  return reply.outcome;
}

async function runAgentLoop({ input, history, maxSteps }: WorkerStart): Promise<string> {
  const messages: ChatMessage[] = [...history, { role: 'user', content: input }];
  for (let step = 0; step < maxSteps; step++) {
    const result = await askModel(messages);
    if (result.toolCalls.length === 0) return result.text;
    messages.push({ role: 'assistant', content: result.text, toolCalls: result.toolCalls });
    for (const call of result.toolCalls) {
      const outcome = await runTool(call);
      messages.push({
        role: 'tool',
        toolCallId: call.id,
        toolName: call.name,
        content: JSON.stringify(outcome.ok ? outcome.output : { error: outcome.error }) ?? 'null',
      });
    }
  }
  throw new Error(`the run used all of its ${maxSteps} steps without a final answer`);
}

function finish(message: WorkerToParent): void {
  // Exit once the message is written: nothing else is left to do, and the parent waits for it.
  process.send?.(message, () => process.disconnect());
}

process.on('message', (raw: ParentToWorker) => {
  switch (raw.type) {
    case 'start':
      runAgentLoop(raw).then(
        (output) => finish({ type: 'done', output }),
        (error: unknown) =>
          finish({ type: 'failed', error: error instanceof Error ? error.message : String(error) }),
      );
      break;
    case 'model-result':
    case 'tool-result':
      if (pending?.id === raw.requestId) {
        const { waiter } = pending;
        pending = undefined;
        waiter.resolve(raw);
      }
      break;
  }
});

// Without the parent there is nobody to answer model or tool calls: stop at once.
process.on('disconnect', () => process.exit(0));

send({ type: 'ready' });

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, waitFor } from '@agentbox/test-support';
import type { ParentToWorker, WorkerToParent } from './ipc.js';
import { WorkerToParentSchema } from './ipc.js';

const WORKER = fileURLToPath(new URL('./run-worker.ts', import.meta.url));

/** Plays the device agent's side of the IPC protocol against a real worker process. */
class Parent {
  readonly child: ChildProcess;
  private readonly inbox: WorkerToParent[] = [];
  private waiting: ((message: WorkerToParent) => void) | undefined;

  constructor() {
    this.child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.child.on('message', (raw) => {
      const message = WorkerToParentSchema.parse(raw);
      if (this.waiting) {
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting(message);
      } else {
        this.inbox.push(message);
      }
    });
  }

  next(): Promise<WorkerToParent> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  send(message: ParentToWorker): void {
    this.child.send(message);
  }
}

describe('run worker', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('runs the agent loop through the parent: model call, tool call, answer, then exits', async () => {
    const sut = new Parent();
    cleanups.push(() => sut.child.kill('SIGKILL'));

    expect(await sut.next()).toEqual({ type: 'ready' });
    sut.send({
      type: 'start',
      runId: 'run-00000001',
      input: 'What is the weather?',
      history: [],
      maxSteps: 4,
    });

    const first = await sut.next();
    expect(first).toEqual({
      type: 'model',
      requestId: 0,
      messages: [{ role: 'user', content: 'What is the weather?' }],
    });
    const call = { id: 'call_1', name: 'http_fetch', input: { url: 'https://api.example.com/w' } };
    sut.send({ type: 'model-result', requestId: 0, text: '', toolCalls: [call] });

    expect(await sut.next()).toEqual({ type: 'tool', requestId: 1, call });
    sut.send({ type: 'tool-result', requestId: 1, outcome: { ok: false, error: 'not an allowed host' } });

    const second = await sut.next();
    expect(second).toEqual({
      type: 'model',
      requestId: 2,
      messages: [
        { role: 'user', content: 'What is the weather?' },
        { role: 'assistant', content: '', toolCalls: [call] },
        {
          role: 'tool',
          toolCallId: 'call_1',
          toolName: 'http_fetch',
          content: JSON.stringify({ error: 'not an allowed host' }),
        },
      ],
    });
    sut.send({ type: 'model-result', requestId: 2, text: 'I could not find out.', toolCalls: [] });

    expect(await sut.next()).toEqual({ type: 'done', output: 'I could not find out.' });
    const [code] = (await once(sut.child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it("puts the conversation's earlier turns before the message", async () => {
    const sut = new Parent();
    cleanups.push(() => sut.child.kill('SIGKILL'));
    await sut.next();
    const history = [
      { role: 'user' as const, content: 'My name is Ada.' },
      { role: 'assistant' as const, content: 'Hello Ada.' },
    ];
    sut.send({ type: 'start', runId: 'run-00000002', input: 'What is my name?', history, maxSteps: 2 });

    expect(await sut.next()).toEqual({
      type: 'model',
      requestId: 0,
      messages: [...history, { role: 'user', content: 'What is my name?' }],
    });
  });

  it('fails when the steps run out without an answer', async () => {
    const sut = new Parent();
    cleanups.push(() => sut.child.kill('SIGKILL'));
    await sut.next();
    sut.send({ type: 'start', runId: 'run-00000001', input: 'loop', history: [], maxSteps: 1 });
    const request = await sut.next();
    expect(request.type).toBe('model');
    sut.send({
      type: 'model-result',
      requestId: 0,
      text: '',
      toolCalls: [{ id: 'c', name: 'memory', input: {} }],
    });
    await sut.next(); // the tool call
    sut.send({ type: 'tool-result', requestId: 1, outcome: { ok: true, output: {} } });

    expect(await sut.next()).toEqual({
      type: 'failed',
      error: 'the run used all of its 1 steps without a final answer',
    });
  });

  it('exits when the device agent dies (kill -9), leaving no orphan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-worker-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const parentScript = join(dir, 'parent.mjs');
    writeFileSync(
      parentScript,
      `import { fork } from 'node:child_process';
       const child = fork(${JSON.stringify(WORKER)}, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
       child.on('message', (m) => { if (m.type === 'ready') console.log(String(child.pid)); });
       setInterval(() => {}, 1000);`,
    );
    const parent = spawn(process.execPath, [parentScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => parent.kill('SIGKILL'));
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const workerPid = Number(line.toString().trim());
    expect(isAlive(workerPid)).toBe(true);

    parent.kill('SIGKILL');

    await waitFor('the worker to exit', () => !isAlive(workerPid), { timeoutMs: 5_000, intervalMs: 50 });
  });
});

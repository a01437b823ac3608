import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PinoLoggerService } from './pino-logger.service.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, sut: new PinoLoggerService('device-agent', 'debug', stream) };
}

describe('PinoLoggerService', () => {
  it('writes a plain message with its context', () => {
    const { lines, sut } = capture();
    sut.log('hello', 'Ctx');
    expect(lines[0]).toMatchObject({ msg: 'hello', context: 'Ctx', level: 30 });
  });

  it('takes fields from an object and the message from the string after it', () => {
    const { lines, sut } = capture();
    sut.warn({ attempt: 2 }, 'retrying', 'Ctx');
    sut.error({ code: 7 }, 'it failed', 'Ctx');
    expect(lines[0]).toMatchObject({ msg: 'retrying', attempt: 2, context: 'Ctx', level: 40 });
    expect(lines[1]).toMatchObject({ msg: 'it failed', code: 7, context: 'Ctx', level: 50 });
    expect(lines[1]!.stack).toBeUndefined();
  });

  it('keeps the stack Nest passes with a string error', () => {
    const { lines, sut } = capture();
    sut.error('boom', 'Error: boom\n    at x', 'Ctx');
    expect(lines[0]).toMatchObject({ msg: 'boom', stack: 'Error: boom\n    at x', context: 'Ctx' });
  });

  it('redacts secrets at any of the known paths', () => {
    const { lines, sut } = capture();
    sut.log(
      {
        password: 'p1',
        claimToken: 'c1',
        credentials: { password: 'p2' },
        mqtt: { password: 'p3' },
        apiKey: 'k1',
        provider: { apiKey: 'k2' },
      },
      'creds',
      'Ctx',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['p1', 'c1', 'p2', 'p3', 'k1', 'k2']) expect(text).not.toContain(`"${secret}"`);
  });
});

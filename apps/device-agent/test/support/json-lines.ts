import type { Readable } from 'node:stream';

/** Splits `stream` into lines: each JSON line goes to `onJson`, anything else to `onOther`. */
export function onJsonLines(
  stream: Readable,
  onJson: (value: Record<string, unknown>) => void,
  onOther: (line: string) => void,
): void {
  let buffer = '';
  stream.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      let value: Record<string, unknown> | undefined;
      try {
        value = JSON.parse(line) as Record<string, unknown>;
      } catch {
        value = undefined;
      }
      if (value === undefined) onOther(line);
      else onJson(value);
      newline = buffer.indexOf('\n');
    }
  });
}

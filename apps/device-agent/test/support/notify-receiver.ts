import { spawn, type ChildProcess } from 'node:child_process';

const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("__bound__"), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps(data.decode("utf-8", "replace")), flush=True)
`;

/** A real sd_notify receiver: a unix datagram socket bound by a tiny python3 process. */
export class NotifyReceiver {
  readonly datagrams: string[] = [];
  private child: ChildProcess | undefined;

  constructor(readonly socketPath: string) {}

  async start(): Promise<void> {
    const child = spawn('python3', ['-u', '-c', RECEIVER, this.socketPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`python3 receiver exited with ${code}`)));
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = JSON.parse(buffer.slice(0, newline)) as string;
          buffer = buffer.slice(newline + 1);
          if (line === '__bound__') resolve();
          else this.datagrams.push(line);
          newline = buffer.indexOf('\n');
        }
      });
    });
  }

  /** Every `KEY=VALUE` line received, in order. */
  get assignments(): string[] {
    return this.datagrams.flatMap((datagram) => datagram.split('\n')).filter((line) => line.length > 0);
  }

  stop(): void {
    this.child?.kill('SIGKILL');
  }
}

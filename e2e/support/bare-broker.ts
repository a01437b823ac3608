import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedBox, waitFor } from '@agentbox/test-support';

/**
 * A bare Mosquitto on its own port, the benchmarks' baseline: anonymous, no persistence, nothing but the
 * broker. Resolves once it accepts a connection.
 */
export async function startBareBroker(dir: string, port: number): Promise<ChildProcess> {
  const config = join(dir, 'bare.conf');
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_connections -1\n`);
  const broker = spawn('mosquitto', ['-c', config], { stdio: 'ignore' });
  await waitFor(
    'bare broker listening',
    async () => {
      try {
        const probe = await SimulatedBox.connect({
          url: `mqtt://127.0.0.1:${port}`,
          deviceId: `probe-${randomBytes(4).toString('hex')}`,
          password: 'x',
          lastWill: false,
        });
        await probe.drop();
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  return broker;
}

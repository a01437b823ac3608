import { execFile } from 'node:child_process';

/**
 * sd_notify(3) through `systemd-notify`. Node has no AF_UNIX datagram sockets, and the npm packages
 * that add them are native addons (a compiler on every box, a rebuild per Node ABI), so the device agent
 * spawns the helper that ships with systemd itself. A child sends the datagram, hence
 * `NotifyAccess=all` in the unit; since systemd 246 the helper waits on a barrier until the
 * manager has processed the message, so it is attributed to the service even though the helper exits.
 */
export class SystemdNotifier {
  constructor(
    private readonly socketPath: string | undefined,
    private readonly binary = 'systemd-notify',
  ) {}

  get enabled(): boolean {
    return this.socketPath !== undefined && this.socketPath !== '';
  }

  /** Sends `KEY=VALUE` assignments (READY=1, STATUS=..., WATCHDOG=1); resolves false when it could not. */
  notify(fields: Record<string, string>): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    const args = Object.entries(fields).map(([key, value]) => `${key}=${value.replace(/\n/g, ' ')}`);
    return new Promise((resolve) => {
      execFile(
        this.binary,
        args,
        { env: { ...process.env, NOTIFY_SOCKET: this.socketPath }, timeout: 10_000 },
        (error) => resolve(error === null),
      );
    });
  }
}

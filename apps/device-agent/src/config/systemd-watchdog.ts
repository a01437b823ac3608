/** What systemd puts into the environment for the watchdog (sd_watchdog_enabled(3)). */
export interface WatchdogEnv {
  WATCHDOG_USEC?: string | undefined;
  WATCHDOG_PID?: string | undefined;
}

/** Half the watchdog period systemd asked for (sd_watchdog_enabled(3)), or undefined when none applies to us. */
export function watchdogIntervalMs(env: WatchdogEnv, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid)
    return undefined;
  return Math.max(Math.floor(usec / 1_000 / 2), 100);
}

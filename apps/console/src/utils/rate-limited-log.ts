/** console.warn at most once per interval; the lines skipped meanwhile are counted in the next one. */
export function createRateLimitedLogger(
  intervalMs: number,
  sink: (...args: unknown[]) => void = (...args) => console.warn(...args),
  clock: () => number = Date.now,
): (message: string, detail?: unknown) => void {
  let last = Number.NEGATIVE_INFINITY;
  let skipped = 0;
  return (message, detail) => {
    const now = clock();
    if (now - last < intervalMs) {
      skipped += 1;
      return;
    }
    last = now;
    const suffix = skipped > 0 ? ` (+${skipped} suppressed)` : '';
    skipped = 0;
    sink(`[agentbox] ${message}${suffix}`, detail);
  };
}

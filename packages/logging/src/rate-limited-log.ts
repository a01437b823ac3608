/**
 * Decides whether a repeated log line may be written: at most one line per key per window,
 * reporting how many were suppressed in between, so a flood of bad input cannot flood the logs.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns the number of suppressed lines since the last one written, or null to stay quiet. */
  take(key: string): number | null {
    const now = this.now();
    const entry = this.last.get(key);
    if (entry === undefined || now - entry.at >= this.windowMs) {
      const suppressed = entry?.suppressed ?? 0;
      this.last.set(key, { at: now, suppressed: 0 });
      if (this.last.size > 10_000) this.prune(now);
      return suppressed;
    }
    entry.suppressed += 1;
    return null;
  }

  /**
   * The line to write for `key`, with the count of lines suppressed since the last one appended, or null
   * to stay quiet.
   */
  line(key: string, message: string): string | null {
    const suppressed = this.take(key);
    if (suppressed === null) return null;
    return suppressed > 0 ? `${message} (${suppressed} more since the last line)` : message;
  }

  private prune(now: number): void {
    for (const [key, entry] of this.last) {
      if (now - entry.at >= this.windowMs) this.last.delete(key);
    }
  }
}

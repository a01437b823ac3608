/** Failed logins allowed per username and client address within the window. */
export const LOGIN_FAILURES_PER_WINDOW = 10;
export const LOGIN_WINDOW_MS = 60_000;
/**
 * Failed logins allowed per client address, whatever the usernames, within ADDRESS_WINDOW_MS: one address
 * spraying a password over many usernames is stopped too. Keyed by address only, so an attacker elsewhere
 * cannot lock a real user out (docs/operations.md, "Users and roles").
 */
export const ADDRESS_FAILURES_PER_WINDOW = 30;
export const ADDRESS_WINDOW_MS = 15 * 60_000;

/** Failure times per key within one window; the oldest beyond it are forgotten. */
class FailureWindow {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** Seconds until another attempt is allowed, or 0 when allowed now. */
  retryAfter(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.limit) return 0;
    const oldest = recent[recent.length - this.limit] ?? this.now();
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  record(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.set(key, recent.slice(-this.limit));
    if (this.failures.size > 10_000) this.prune();
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((at) => at > cutoff);
  }

  private prune(): void {
    for (const key of this.failures.keys()) {
      if (this.recent(key).length === 0) this.failures.delete(key);
    }
  }
}

/**
 * Slows password guessing: after too many failures per (username, address) in a minute, or per address
 * over any usernames in 15 minutes, further tries from that address are refused for a while.
 */
export class LoginThrottle {
  private readonly perUser: FailureWindow;
  private readonly perAddress: FailureWindow;

  constructor(
    limit = LOGIN_FAILURES_PER_WINDOW,
    windowMs = LOGIN_WINDOW_MS,
    now: () => number = Date.now,
    addressLimit = ADDRESS_FAILURES_PER_WINDOW,
    addressWindowMs = ADDRESS_WINDOW_MS,
  ) {
    this.perUser = new FailureWindow(limit, windowMs, now);
    this.perAddress = new FailureWindow(addressLimit, addressWindowMs, now);
  }

  /** Seconds until another attempt is allowed, or 0 when allowed now. */
  retryAfter(username: string, ip: string): number {
    return Math.max(this.perUser.retryAfter(userKey(username, ip)), this.perAddress.retryAfter(ip));
  }

  recordFailure(username: string, ip: string): void {
    this.perUser.record(userKey(username, ip));
    this.perAddress.record(ip);
  }

  /**
   * After a good login: the username's count starts over, the address's does not (one account of its own
   * must not let an address reset its spraying count).
   */
  reset(username: string, ip: string): void {
    this.perUser.reset(userKey(username, ip));
  }
}

function userKey(username: string, ip: string): string {
  return `${username.toLowerCase()}\u0000${ip}`;
}

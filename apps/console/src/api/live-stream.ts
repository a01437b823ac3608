import { backoffDelay, type BackoffPolicy } from '@agentbox/retry';
import { LiveEventSchema, type LiveEvent } from '@agentbox/schemas';

/** SSE event names the fleet service sends on `GET /api/v1/live`. */
export const LIVE_EVENT_NAMES = [
  'device.status',
  'device.updated',
  'telemetry',
  'run',
  'run.events',
  'usage',
  'device.agents',
  'rollout',
  'device.update',
  'conversation.message',
  'alert',
] as const;

export type LiveConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting';

export type LiveParseResult = { ok: true; event: LiveEvent } | { ok: false; reason: string };

/**
 * Validates one SSE message against the LiveEvent contract. The event name is the discriminator,
 * so a payload that omits `type` is accepted as long as the rest matches.
 */
export function parseLiveEvent(name: string, data: string): LiveParseResult {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, reason: `${name}: malformed JSON` };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, reason: `${name}: not an object` };
  }
  const parsed = LiveEventSchema.safeParse({ type: name, ...json });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `${name}: ${issue ? `${issue.path.join('.') || '(root)'} ${issue.message}` : 'invalid'}`,
    };
  }
  if (parsed.data.type !== name) return { ok: false, reason: `${name}: type says ${parsed.data.type}` };
  return { ok: true, event: parsed.data };
}

/**
 * Reconnect delays of the live stream: min(2^n * 500 ms, 30 s), shortened by up to 20% at random so the
 * console tabs of a whole team do not all come back at the same moment.
 */
export const LIVE_RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000, jitter: 0.2 };

type EventSourceLike = Pick<EventSource, 'addEventListener' | 'close'> & {
  onopen: ((this: EventSource, ev: Event) => unknown) | null;
  onerror: ((this: EventSource, ev: Event) => unknown) | null;
};

export interface LiveStreamOptions {
  /**
   * The stream URL with a fresh stream ticket (a URL ends up in logs, so never the login token), or null
   * while logged out; asked again before every (re)connect, since a ticket lasts a minute.
   */
  url: () => Promise<string | null> | string | null;
  onEvent: (event: LiveEvent) => void;
  onInvalid: (reason: string) => void;
  onState: (state: LiveConnectionState) => void;
  /** The stream is back after a drop: anything sent meanwhile was missed, so refetch. */
  onReconnected: () => void;
  /** Several attempts in a row failed (maybe the token expired: EventSource cannot see the status). */
  onRepeatedFailure?: () => void;
  createEventSource?: (url: string) => EventSourceLike;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * One live connection with our own reconnect policy: the browser's built-in retry has a fixed delay and
 * would keep the old token, so on error we close and reopen with capped exponential backoff.
 */
export class LiveStream {
  private source: EventSourceLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private everOpened = false;
  private stopped = true;

  constructor(private readonly options: LiveStreamOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.everOpened = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.source?.close();
    this.source = null;
    this.options.onState('idle');
  }

  private connect(): void {
    Promise.resolve()
      .then(() => this.options.url())
      .then(
        (url) => {
          if (this.stopped || this.source !== null) return;
          if (url === null) this.stop();
          else this.open(url);
        },
        // No ticket (the network, or a 401 the API client already handles): try again with the backoff.
        () => this.scheduleReconnect(),
      );
  }

  private open(url: string): void {
    this.options.onState(this.everOpened ? 'reconnecting' : 'connecting');
    const create = this.options.createEventSource ?? ((u: string) => new EventSource(u));
    const source = create(url);
    this.source = source;
    source.onopen = () => {
      if (this.source !== source) return;
      const wasReconnect = this.everOpened || this.attempt > 0;
      this.attempt = 0;
      this.everOpened = true;
      this.options.onState('open');
      if (wasReconnect) this.options.onReconnected();
    };
    source.onerror = () => {
      if (this.source !== source) return;
      source.close();
      this.source = null;
      this.scheduleReconnect();
    };
    for (const name of LIVE_EVENT_NAMES) {
      source.addEventListener(name, (message: Event) => {
        if (this.source !== source) return;
        const data = (message as MessageEvent<unknown>).data;
        const result = parseLiveEvent(name, typeof data === 'string' ? data : '');
        if (result.ok) this.options.onEvent(result.event);
        else this.options.onInvalid(result.reason);
      });
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.options.onState('reconnecting');
    const delay = backoffDelay(this.attempt, {
      ...LIVE_RECONNECT_BACKOFF,
      baseMs: this.options.baseDelayMs ?? LIVE_RECONNECT_BACKOFF.baseMs,
      capMs: this.options.maxDelayMs ?? LIVE_RECONNECT_BACKOFF.capMs,
    });
    this.attempt += 1;
    if (this.attempt === 3) this.options.onRepeatedFailure?.();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }
}

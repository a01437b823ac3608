import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { LiveEvent, TelemetrySample } from '@agentbox/schemas';
import type { StoredTelemetry } from '../telemetry/telemetry.store.js';

export type { StoredTelemetry };

/**
 * Fan-out of live events to the console's SSE streams. Events this replica publishes reach its own
 * streams at once and, through the live bus (PostgresLiveBus), every other replica's; events from other
 * replicas come in through `deliver`. Telemetry is the exception: its samples reach this replica's
 * streams only while one is open, and the other replicas hear only which messages were stored
 * (`stored()`), which they read back from the database while one of their own streams is open.
 */
@Injectable()
export class LiveEventsService {
  private readonly all = new Subject<LiveEvent>();
  private readonly local = new Subject<LiveEvent>();
  private readonly storedTelemetry = new Subject<StoredTelemetry[]>();

  /** An event that happened in this replica (it ingested a message, ran the rollout engine, ...). */
  publish(event: LiveEvent): void {
    this.all.next(event);
    this.local.next(event);
  }

  /** Whether a stream of this replica follows the events (else telemetry samples need not be built). */
  watched(): boolean {
    return this.all.observed;
  }

  /**
   * Telemetry this replica committed: `samples` (built only while watched) go to this replica's streams,
   * `stored` to the other replicas.
   */
  publishTelemetry(stored: StoredTelemetry[], samples: () => Map<string, TelemetrySample[]>): void {
    if (stored.length === 0) return;
    if (this.watched()) {
      for (const [deviceId, list] of samples()) this.all.next({ type: 'telemetry', deviceId, samples: list });
    }
    this.storedTelemetry.next(stored);
  }

  /** What telemetry this replica stored: what the live bus tells the others. */
  stored(): Observable<StoredTelemetry[]> {
    return this.storedTelemetry.asObservable();
  }

  /** An event another replica published. */
  deliver(event: LiveEvent): void {
    this.all.next(event);
  }

  /** Every event, whichever replica it happened in: what SSE streams follow. */
  stream(): Observable<LiveEvent> {
    return this.all.asObservable();
  }

  /** Events this replica published: what the live bus sends to the others. */
  published(): Observable<LiveEvent> {
    return this.local.asObservable();
  }
}

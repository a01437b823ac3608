import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { LiveEvent } from '@agentbox/schemas';

/**
 * Fan-out of live events to the console's SSE streams. Events this replica publishes reach its own
 * streams at once and, through the live bus (PostgresLiveBus), every other replica's; events from other
 * replicas come in through `deliver`.
 */
@Injectable()
export class LiveEventsService {
  private readonly all = new Subject<LiveEvent>();
  private readonly local = new Subject<LiveEvent>();

  /** An event that happened in this replica (it ingested a message, ran the rollout engine, ...). */
  publish(event: LiveEvent): void {
    this.all.next(event);
    this.local.next(event);
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

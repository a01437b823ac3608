import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { LiveEvent } from '@agentbox/schemas';

/**
 * In-process fan-out of live events to the console's SSE streams.
 * With several replicas, each replica's ingest publishes what it ingested; a cross-replica bus
 * (PostgreSQL LISTEN/NOTIFY) plugs in here.
 */
@Injectable()
export class LiveEventsService {
  private readonly subject = new Subject<LiveEvent>();

  publish(event: LiveEvent): void {
    this.subject.next(event);
  }

  stream(): Observable<LiveEvent> {
    return this.subject.asObservable();
  }
}

import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  DesiredStateMessageSchema,
  SCHEMA_VERSION,
  decodePayload,
  topics,
  type DesiredStateMessage,
  type ReportedStateMessage,
} from '@agentbox/schemas';
import { BoxConfig } from '../../config/box-config.js';
import { RateLimitedLog } from '@agentbox/logging';
import { IdentityService } from '../identity/identity.service.js';
import { LinkException } from '../link/link.exception.js';
import { LinkService } from '../link/link.service.js';
import { OutboxService } from '../outbox/outbox.service.js';
import { DEVICE_AGENT_VERSION } from '../runtime/device-agent-version.js';
import { RuntimeSettingsService } from '../runtime/runtime-settings.service.js';
import { SequenceService } from '../sequence/sequence.service.js';
import { DesiredStateStore } from './desired-state.store.js';

export type DesiredOutcome = 'applied' | 'ignored-older' | 'invalid' | 'cleared';

export type DesiredSpec = DesiredStateMessage['spec'];
/** The sections of the spec this device agent version knows; others are kept for newer versions. */
export type DesiredSectionName = 'telemetry' | 'agents' | 'providers' | 'update';

/**
 * Told about its sections of every applied document (the stored one at start, then each newer one or
 * the same one again), absent sections included as undefined, with the document's version.
 */
export type DesiredSectionHandler<K extends DesiredSectionName> = (
  sections: Pick<DesiredSpec, K>,
  applied: { version: number },
) => void;

interface SectionSubscription {
  names: readonly DesiredSectionName[];
  handler: (sections: Partial<DesiredSpec>, applied: { version: number }) => void;
}

/**
 * Takes the retained, versioned `down/desired` after every (re)connect. The box only ever takes a
 * whole document, never a delta, and never goes back to an older version than the one it holds.
 */
@Injectable()
export class DesiredStateService implements OnModuleInit {
  private readonly logger = new Logger(DesiredStateService.name);
  private readonly rateLimited = new RateLimitedLog(30_000);
  private readonly store: DesiredStateStore;
  private current: DesiredStateMessage | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly subscriptions = new Set<SectionSubscription>();
  /** Sections other modules add to `current` (e.g. `agents`), computed at each report. */
  private readonly currentSections = new Map<string, () => unknown>();
  private receivedFromCloud = false;
  /** Invalid documents seen since start. */
  rejected = 0;

  constructor(
    private readonly config: BoxConfig,
    private readonly identity: IdentityService,
    private readonly link: LinkService,
    private readonly outbox: OutboxService,
    private readonly runtime: RuntimeSettingsService,
    private readonly seq: SequenceService,
  ) {
    this.store = new DesiredStateStore(config.stateDir);
    // The runtime settings are this service's own section, applied first: the telemetry interval (the
    // configured one when the document sets none) and the version they come from.
    this.onSection('telemetry', ({ telemetry }, { version }) =>
      this.runtime.apply({
        telemetryIntervalSec: telemetry?.intervalSec ?? this.config.telemetryIntervalSec,
        desiredVersion: version,
      }),
    );
  }

  onModuleInit(): void {
    this.link.handle('desired', ({ payload }) => this.receive(payload).then(() => undefined));
    this.link.onUp(() => void this.report());
  }

  /**
   * The owner of a part of the spec (the agents take `agents` and `providers`, updates take `update`)
   * subscribes to its sections here instead of this service knowing them. Handlers run in the order
   * they subscribed, each on its own: one that throws does not keep the others from their sections.
   */
  onSection<K extends DesiredSectionName>(
    names: K | readonly K[],
    handler: DesiredSectionHandler<K>,
  ): () => void {
    const subscription: SectionSubscription = {
      names: typeof names === 'string' ? [names] : names,
      handler: handler as SectionSubscription['handler'],
    };
    this.subscriptions.add(subscription);
    return () => this.subscriptions.delete(subscription);
  }

  /** Adds a section to every `up/state` current, e.g. `agents` (the reported side of onSection). */
  addCurrentSection(name: string, provide: () => unknown): void {
    this.currentSections.set(name, provide);
  }

  /** A document from the cloud has been applied in this process (not only the stored one). */
  get appliedFromCloud(): boolean {
    return this.receivedFromCloud;
  }

  get document(): DesiredStateMessage | undefined {
    return this.current;
  }

  /** Applies the stored document, so the box runs its last known desired state before it is online. */
  async load(): Promise<void> {
    const stored = await this.store.load();
    if (stored) {
      this.current = stored;
      this.apply(stored);
      this.logger.log({ version: stored.version }, 'applied the stored desired state');
    }
  }

  /** Documents are taken one at a time, so a slow write can never let an older one overtake a newer one. */
  receive(payload: Buffer): Promise<DesiredOutcome> {
    const run = this.queue.then(() => this.receiveNow(payload));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async receiveNow(payload: Buffer): Promise<DesiredOutcome> {
    // An empty retained payload deletes the retained message (MQTT-3.3.1-10): nothing to apply.
    if (payload.length === 0) return 'cleared';
    const decoded = decodePayload(DesiredStateMessageSchema, payload);
    if (!decoded.ok) {
      this.rejected += 1;
      if (this.rateLimited.take('invalid') !== null) {
        this.logger.warn({ reason: decoded.reason, detail: decoded.detail }, 'invalid desired state ignored');
      }
      await this.outbox
        .event({
          type: 'desired-state.invalid',
          level: 'error',
          message: `invalid desired state ignored (${decoded.reason}): ${decoded.detail}`.slice(0, 2_000),
          data: { reason: decoded.reason, keptVersion: this.current?.version ?? null },
        })
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, 'could not queue the invalid-desired event'),
        );
      return 'invalid';
    }
    const incoming = decoded.value;
    if (this.current && incoming.version < this.current.version) {
      this.logger.warn(
        { incoming: incoming.version, held: this.current.version },
        'older desired state ignored',
      );
      await this.report();
      return 'ignored-older';
    }
    await this.store.save(incoming);
    this.current = incoming;
    this.receivedFromCloud = true;
    this.apply(incoming);
    this.logger.log({ version: incoming.version }, 'desired state applied');
    await this.report();
    return 'applied';
  }

  /** What the box runs now, as reported in `up/state`. */
  currentState(): ReportedStateMessage['current'] {
    const sections: Record<string, unknown> = {};
    for (const [name, provide] of this.currentSections) {
      try {
        sections[name] = provide();
      } catch (error) {
        this.logger.warn({ err: error, section: name }, 'a state section could not be computed');
      }
    }
    return {
      ...sections,
      // Shaped like the desired spec, so a console can diff desired against current section by section.
      telemetry: { intervalSec: this.runtime.telemetryIntervalSec },
      telemetryIntervalSec: this.runtime.telemetryIntervalSec,
      agentVersion: DEVICE_AGENT_VERSION,
    };
  }

  /** Publishes `up/state`; skipped when offline, since it is sent again after every connect. */
  async report(): Promise<ReportedStateMessage | undefined> {
    const message: ReportedStateMessage = {
      v: SCHEMA_VERSION,
      seq: this.seq.next(),
      ts: Date.now(),
      desiredVersion: this.runtime.desiredVersion,
      current: this.currentState(),
    };
    try {
      await this.link.publish(topics.state(this.identity.deviceId), message);
      return message;
    } catch (error) {
      if (!(error instanceof LinkException)) throw error;
      this.logger.debug({ err: error }, 'state report not sent');
      return undefined;
    }
  }

  /** Applies what this device agent version knows of the spec; unknown sections are kept for newer versions. */
  private apply(document: DesiredStateMessage): void {
    const applied = { version: document.version };
    for (const { names, handler } of this.subscriptions) {
      const sections = Object.fromEntries(names.map((name) => [name, document.spec[name]]));
      try {
        handler(sections, applied);
      } catch (error) {
        this.logger.error({ err: error, sections: names }, 'applying the desired state failed in a section');
      }
    }
  }
}

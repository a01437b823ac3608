import { Injectable } from '@nestjs/common';
import { BoxConfig } from '../../config/box-config.js';

type Listener = () => void;

/**
 * What the box runs with right now: the configured defaults overridden by the applied desired state.
 * Telemetry, the birth message and state reports read it; the desired-state service writes it.
 */
@Injectable()
export class RuntimeSettingsService {
  private intervalSec: number;
  private appliedDesiredVersion: number | null = null;
  private readonly listeners = new Set<Listener>();

  constructor(config: BoxConfig) {
    this.intervalSec = config.telemetryIntervalSec;
  }

  get telemetryIntervalSec(): number {
    return this.intervalSec;
  }

  get desiredVersion(): number | null {
    return this.appliedDesiredVersion;
  }

  apply(settings: { telemetryIntervalSec: number; desiredVersion: number | null }): void {
    const changed = settings.telemetryIntervalSec !== this.intervalSec;
    this.intervalSec = settings.telemetryIntervalSec;
    this.appliedDesiredVersion = settings.desiredVersion;
    if (changed) for (const listener of this.listeners) listener();
  }

  /** Called when the telemetry interval changes. */
  onIntervalChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

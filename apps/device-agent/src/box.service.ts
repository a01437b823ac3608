import { Injectable, Logger } from '@nestjs/common';
import { BoxConfig } from './config/box-config.js';
import { AgentsService } from './modules/agents/agents.service.js';
import { BoxSecretsKeyService } from './modules/agents/secrets/box-secrets-key.service.js';
import { DesiredStateService } from './modules/desired-state/desired-state.service.js';
import { IdentityService } from './modules/identity/identity.service.js';
import { LinkService } from './modules/link/link.service.js';
import { OtaService } from './modules/ota/ota.service.js';
import { OutboxService } from './modules/outbox/outbox.service.js';
import { DEVICE_AGENT_VERSION } from './modules/runtime/device-agent-version.js';
import { SequenceService } from './modules/sequence/sequence.service.js';
import { SystemdService } from './modules/systemd/systemd.service.js';
import { TelemetryService } from './modules/telemetry/telemetry.service.js';

/** Start and stop order of the box's parts. */
@Injectable()
export class BoxService {
  private readonly logger = new Logger(BoxService.name);
  private readonly abort = new AbortController();
  private started = false;

  constructor(
    private readonly config: BoxConfig,
    private readonly identity: IdentityService,
    private readonly seq: SequenceService,
    private readonly outbox: OutboxService,
    private readonly desired: DesiredStateService,
    private readonly telemetry: TelemetryService,
    private readonly link: LinkService,
    private readonly systemd: SystemdService,
    private readonly secretsKey: BoxSecretsKeyService,
    private readonly agents: AgentsService,
    private readonly ota: OtaService,
  ) {}

  /** Enrolls if needed, then runs until stop(); throws BoxException when the box cannot be enrolled. */
  async start(): Promise<void> {
    this.logger.log(
      { version: DEVICE_AGENT_VERSION, stateDir: this.config.stateDir },
      'device agent starting',
    );
    // systemd arms the watchdog when the process starts, so it is fed from here on, enrolment included.
    this.systemd.start();
    let credentials;
    try {
      credentials = await this.identity.ensureEnrolled(this.abort.signal);
    } catch (error) {
      // Stopped while enrolment was still retrying: a normal shutdown, not a failure.
      if (this.abort.signal.aborted) return;
      throw error;
    }
    if (this.abort.signal.aborted) return;
    this.seq.open();
    // Before the first connect, so the first birth message already carries the key.
    await this.secretsKey.load();
    await this.outbox.open();
    // The installed agents run from here on, online or not; the stored desired state then reconciles them.
    await this.agents.start();
    // Updates, in this order (see OtaPhase): a rollback or commit left by the previous process is
    // reported first and a version on probation starts its health check; then the stored desired
    // state is applied to every section's owner (its update offer only remembered); then the offer
    // it holds is taken, unless this version is still on probation.
    await this.ota.recover();
    await this.desired.load();
    await this.ota.takeCurrentOffer();
    this.telemetry.start();
    this.link.start();
    this.started = true;
    this.logger.log(
      { deviceId: credentials.deviceId, mqttUrl: this.identity.mqttUrl },
      'device agent running',
    );
  }

  /** Clean shutdown: stop sampling, interrupt the agents' runs, say `offline` and disconnect, then flush and close the spool. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.systemd.stopping();
    if (!this.started) return;
    this.started = false;
    await this.telemetry.stop();
    await this.ota.stop();
    // Runs are interrupted and their final records spooled while the link may still carry them.
    await this.agents.stop();
    await this.link.stop();
    await this.outbox.close();
    this.logger.log('device agent stopped');
  }
}

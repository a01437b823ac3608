import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  SCHEMA_VERSION,
  type UpdateMessage,
  type UpdateOffer,
  type UpdateStatusReport,
} from '@agentbox/schemas';
import { BoxConfig } from '../../config/box-config.js';
import { AgentsService } from '../agents/agents.service.js';
import { DesiredStateService } from '../desired-state/desired-state.service.js';
import { LinkService } from '../link/link.service.js';
import { OutboxService } from '../outbox/outbox.service.js';
import { DEVICE_AGENT_VERSION } from '../runtime/device-agent-version.js';
import { RuntimeSettingsService } from '../runtime/runtime-settings.service.js';
import { SequenceService } from '../sequence/sequence.service.js';
import { releaseTrust } from './release-trust.js';
import { UpdateFlowCheckpoints } from './flow-checkpoints.js';
import { LocalClock } from './local-clock.js';
import { UpdateFlow, type HealthCheck } from './update-flow.js';

/**
 * Exit code that asks the launcher to start again at once: into the pending slot after an install, into
 * the active (old) slot after this version rolled itself back.
 */
export const EXIT_RESTART = 75;
/** Margin kept before the launcher's deadline, so a commit never races the launcher's kill. */
const DEADLINE_MARGIN_MS = 3_000;

/**
 * Where updates stand in this process. Start-up goes through them in this order (BoxService.start):
 *   recover()            'starting' -> 'on-probation' (this version must prove healthy) or 'holding'
 *   desired.load()       the stored desired state is applied: its offer is remembered, not taken
 *   takeCurrentOffer()   'holding' -> 'taking-offers': the offer held now, then each applied one
 * A version on probation takes offers once its probation is over ('on-probation' -> 'taking-offers';
 * once committed, the offer held then first).
 */
type OtaPhase = 'starting' | 'on-probation' | 'holding' | 'taking-offers';

/**
 * Over-the-air updates on the box: takes `spec.update` from the desired state and runs the update
 * flow; when this process is a new version on probation, proves it healthy and commits it.
 */
@Injectable()
export class OtaService implements OnModuleInit {
  private readonly logger = new Logger('Ota');
  readonly flow: UpdateFlow;
  private restartListener: ((why: string) => void) | undefined;
  private phase: OtaPhase = 'starting';
  /** `spec.update` of the last applied desired state (undefined: none offered). */
  private offer: UpdateOffer | undefined;
  private readonly abort = new AbortController();
  private trialDone: Promise<void> | undefined;

  constructor(
    private readonly config: BoxConfig,
    private readonly outbox: OutboxService,
    private readonly seq: SequenceService,
    private readonly desired: DesiredStateService,
    private readonly agents: AgentsService,
    private readonly link: LinkService,
    private readonly runtime: RuntimeSettingsService,
    clock: LocalClock,
    checkpoints: UpdateFlowCheckpoints,
  ) {
    this.flow = new UpdateFlow({
      stateDir: config.stateDir,
      bootStatePath: config.bootStatePath,
      runningSlot: config.slot,
      currentVersion: DEVICE_AGENT_VERSION,
      arch: process.arch,
      diskReserveBytes: config.otaDiskReserveBytes,
      trust: releaseTrust,
      report: (report) => this.report(report),
      runsInProgress: () => this.agents.activeRunCount(),
      restart: () => this.restartListener?.('update installed'),
      logger: {
        log: (message, fields) => this.logger.log(fields ?? {}, message),
        warn: (message, fields) => this.logger.warn(fields ?? {}, message),
      },
      minuteOfDay: () => clock.minuteOfDay(),
      checkpoints,
    });
  }

  onModuleInit(): void {
    this.desired.onSection('update', ({ update }) => {
      this.offer = update;
      if (this.phase === 'taking-offers') this.takeOffer(update);
    });
  }

  private takeOffer(update: UpdateOffer | undefined): void {
    void this.flow.offer(update).catch((error: unknown) => {
      this.logger.error({ err: error }, 'the update offer could not be handled');
    });
  }

  /** main.ts stops the box and exits with EXIT_RESTART when this fires. */
  onRestart(listener: (why: string) => void): void {
    this.restartListener = listener;
  }

  /**
   * First at start, after the spool is open and before the desired state is loaded: finish what a
   * previous process left (report a rollback or a commit), or start the probation of this version.
   */
  async recover(): Promise<void> {
    const next = await this.flow.recover(this.config.bootPending).catch((error: unknown) => {
      this.logger.error({ err: error }, 'the persisted update state could not be recovered');
      return 'none' as const;
    });
    if (next !== 'trial') {
      this.phase = 'holding';
      return;
    }
    this.phase = 'on-probation';
    const deadline = this.config.bootDeadline;
    const budgetMs = deadline !== undefined ? deadline - Date.now() : 120_000;
    this.trialDone = this.flow
      .trial(() => this.healthy(), Math.max(0, budgetMs - DEADLINE_MARGIN_MS), this.abort.signal)
      .then((outcome) => {
        // Probation over: offers reach the flow again (after a rollback, only until the box restarts).
        this.phase = 'taking-offers';
        switch (outcome) {
          case 'committed':
            return this.flow.offer(this.offer);
          case 'rolled-back':
            this.restartListener?.('update rolled back (health check failed)');
            return;
          case 'stopped':
            return;
        }
      })
      .catch((error: unknown) => this.logger.error({ err: error }, 'the health check failed'));
  }

  /**
   * Once the stored desired state is applied: offers reach the flow from now on, starting with the one
   * the desired state holds now. On probation this waits for the end of the probation instead.
   */
  async takeCurrentOffer(): Promise<void> {
    if (this.phase === 'on-probation') return;
    this.phase = 'taking-offers';
    await this.flow.offer(this.offer);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.trialDone;
    await this.flow.stop();
  }

  /** Health of a version on probation: online, desired state applied, agents reconciled, self-test passed. */
  async healthy(): Promise<HealthCheck> {
    if (!this.link.connected) return { ok: false, detail: 'not connected to the cloud' };
    if (!this.desired.appliedFromCloud || this.runtime.desiredVersion === null)
      return { ok: false, detail: 'no desired state from the cloud applied yet' };
    const agents = this.agents;
    if (!agents.started) return { ok: false, detail: 'the agent runtime has not started' };
    if (!agents.isHealthy()) return { ok: false, detail: 'the agents reconcile is stuck' };
    const pending = agents.reconcilePendingSteps();
    if (pending > 0) return { ok: false, detail: `${pending} reconcile steps still to apply` };
    return this.selfTest();
  }

  /** The state dir takes writes and reads back what was written; the spool is open. */
  private async selfTest(): Promise<HealthCheck> {
    const probe = join(this.config.stateDir, `.self-test.${randomBytes(4).toString('hex')}`);
    const token = randomBytes(16).toString('hex');
    try {
      await writeFile(probe, token);
      if ((await readFile(probe, 'utf8')) !== token)
        return { ok: false, detail: 'state dir read-back differs', definitive: true };
    } catch (error) {
      return { ok: false, detail: `state dir not writable: ${(error as Error).message}` };
    } finally {
      await rm(probe, { force: true });
    }
    if (!this.outbox.stats()) return { ok: false, detail: 'the spool is not open' };
    return { ok: true, detail: 'healthy' };
  }

  private async report(report: UpdateStatusReport): Promise<void> {
    const message: UpdateMessage = {
      v: SCHEMA_VERSION,
      seq: this.seq.next(),
      ts: Date.now(),
      reports: [report],
    };
    await this.outbox.append('update', message);
    this.logger.log(
      { rolloutId: report.rolloutId, version: report.version, status: report.status, reason: report.reason },
      'update status',
    );
  }
}

import { Logger } from '@nestjs/common';
import type { BrokerPasswordsPort } from '../../common/ports.js';
import { deviceRoleName } from './dynsec-admin.js';

/** What the reconciler needs of the broker's dynamic security (DynsecAdmin). */
export interface DynsecClients {
  listClients(): Promise<string[]>;
  listRoles(): Promise<string[]>;
  restoreDevice(deviceId: string, lost: LostParts, password: string | undefined): Promise<void>;
}

/** What the broker lost of one box. */
export interface LostParts {
  client: boolean;
  role: boolean;
}

export interface LostDevice extends LostParts {
  deviceId: string;
}

/** What the reconciler needs of the device registry. */
export type BrokerPasswordSource = Pick<BrokerPasswordsPort, 'deviceIds' | 'sealedBrokerPasswords'>;

/** Counts one event per call (a prom-client Counter without labels). */
export interface Increment {
  inc(value?: number): void;
}

export interface DynsecReconcilerOptions {
  /** Opens a sealed broker password of a box (SecretCipher with the box's additional data). */
  open: (sealed: string, deviceId: string) => string;
  recreated: Increment;
  unrecoverable: Increment;
  /** The warning about boxes that must re-enrol is logged at most this often. */
  warnEveryMs?: number;
  now?: () => number;
}

export interface ReconcileResult {
  /** Boxes whose client or role the broker did not have. */
  lost: number;
  recreated: number;
  /** Boxes whose client is lost and that have no sealed broker password (they must re-enrol). */
  unrecoverable: string[];
  failed: number;
}

const DEFAULT_WARN_EVERY_MS = 10 * 60_000;
/** How many box ids a warning names; the rest are counted. */
const NAMED_IN_WARNING = 20;

/**
 * The boxes the broker has lost: those whose dynsec client (username = device id) or whose role is
 * missing. Clients and roles of anything else (the service account, an operator's) are not the
 * service's business.
 */
export function lostDevices(
  deviceIds: Iterable<string>,
  clients: Iterable<string>,
  roles: Iterable<string>,
): LostDevice[] {
  const haveClients = new Set(clients);
  const haveRoles = new Set(roles);
  const lost: LostDevice[] = [];
  for (const deviceId of deviceIds) {
    const client = !haveClients.has(deviceId);
    const role = !haveRoles.has(deviceRoleName(deviceId));
    if (client || role) lost.push({ deviceId, client, role });
  }
  return lost;
}

/**
 * Re-creates the dynsec client and role of every box the broker has lost (its dynamic-security.json was
 * not writable, was restored from an old backup, an operator deleted them), with the box's own password
 * kept sealed at enrolment. It creates only what is missing and never changes what exists (that would
 * disconnect the box), so several replicas may run it at once.
 */
export class DynsecReconciler {
  private readonly logger = new Logger(DynsecReconciler.name);
  private running: Promise<ReconcileResult | undefined> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastWarnedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly broker: DynsecClients,
    private readonly devices: BrokerPasswordSource,
    private readonly options: DynsecReconcilerOptions,
  ) {}

  /** Runs a pass every `intervalMs` (besides the ones `run` is asked for) until `stop`. */
  start(intervalMs: number): void {
    this.stopped = false;
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.run(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One pass; a call while a pass runs asks for one more after it (what changed meanwhile, e.g. a
   * reconnect to a restarted broker, is seen). Never rejects: a failed pass is logged and retried later.
   */
  run(): Promise<ReconcileResult | undefined> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const loop = async (): Promise<ReconcileResult | undefined> => {
      let result: ReconcileResult | undefined;
      do {
        this.again = false;
        result = await this.pass().catch((error: Error) => {
          if (!this.stopped) this.logger.warn(`Dynamic-security reconciliation failed: ${error.message}`);
          return undefined;
        });
      } while (this.again && !this.stopped);
      return result;
    };
    const running = loop().finally(() => {
      this.running = undefined;
    });
    this.running = running;
    return running;
  }

  private async pass(): Promise<ReconcileResult> {
    // The devices first: a box enrolled after this read is not looked at, so its client being created
    // meanwhile is never mistaken for a lost one.
    const deviceIds = await this.devices.deviceIds();
    const clients = await this.broker.listClients();
    const roles = await this.broker.listRoles();
    const lost = lostDevices(deviceIds, clients, roles);
    const result: ReconcileResult = { lost: lost.length, recreated: 0, unrecoverable: [], failed: 0 };
    if (lost.length === 0) return result;
    const sealed = await this.devices.sealedBrokerPasswords(lost.map((device) => device.deviceId));
    for (const { deviceId, ...parts } of lost) {
      if (this.stopped) break;
      // Deleted since the devices were read: nothing to re-create.
      if (!sealed.has(deviceId)) continue;
      const stored = sealed.get(deviceId) ?? null;
      // A lost role alone is re-created and given back to the client without the password.
      if (parts.client && stored === null) {
        result.unrecoverable.push(deviceId);
        continue;
      }
      try {
        const password = parts.client && stored !== null ? this.options.open(stored, deviceId) : undefined;
        await this.broker.restoreDevice(deviceId, parts, password);
        result.recreated += 1;
        this.options.recreated.inc();
        this.logger.log(`Re-created the dynamic-security client and role of ${deviceId}, lost by the broker`);
      } catch (error) {
        result.failed += 1;
        this.logger.warn(`Re-creating the broker client of ${deviceId} failed: ${(error as Error).message}`);
      }
    }
    if (result.unrecoverable.length > 0) {
      this.options.unrecoverable.inc(result.unrecoverable.length);
      this.warnUnrecoverable(result.unrecoverable);
    }
    return result;
  }

  private warnUnrecoverable(deviceIds: string[]): void {
    const now = (this.options.now ?? Date.now)();
    if (now - this.lastWarnedAt < (this.options.warnEveryMs ?? DEFAULT_WARN_EVERY_MS)) return;
    this.lastWarnedAt = now;
    const named = deviceIds.slice(0, NAMED_IN_WARNING).join(', ');
    const more =
      deviceIds.length > NAMED_IN_WARNING ? ` and ${deviceIds.length - NAMED_IN_WARNING} more` : '';
    this.logger.warn(
      `The broker lost the dynamic-security client of ${deviceIds.length} boxes enrolled before their broker ` +
        `password was kept; they are refused until they re-enrol: ${named}${more}`,
    );
  }
}

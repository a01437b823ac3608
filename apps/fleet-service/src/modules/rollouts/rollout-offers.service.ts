import { Injectable, Logger } from '@nestjs/common';
import type { UpdateOffer } from '@agentbox/schemas';
import { DesiredStateService } from '../desired-state/desired-state.service.js';
import { DevicesService } from '../devices/devices.service.js';
import { OtaTrustService } from '../releases/ota-trust.service.js';
import { ReleasesService } from '../releases/releases.service.js';
import { offerIdOf, parseOfferId } from './offer-id.js';
import type { RolloutRow } from './rollout.entity.js';
import type { EngineAction } from './rollout-engine.js';
import { RolloutStore } from './rollout.store.js';

/**
 * Offers of an update to boxes and their withdrawal, through the `update` section of each box's
 * desired state. They happen after the engine's step is committed; one that fails is made good by
 * `reconcile` when a replica becomes the leader, or the box times out.
 */
@Injectable()
export class RolloutOffers {
  private readonly logger = new Logger(RolloutOffers.name);

  constructor(
    private readonly store: RolloutStore,
    private readonly releases: ReleasesService,
    private readonly trust: OtaTrustService,
    private readonly devices: DevicesService,
    private readonly desired: DesiredStateService,
  ) {}

  /** Carries out the offers and withdrawals of an engine step; a failure is logged, not thrown. */
  async carryOut(row: RolloutRow, actions: EngineAction[]): Promise<void> {
    for (const action of actions) {
      if (action.type !== 'offer' && action.type !== 'withdraw') continue;
      try {
        if (action.type === 'offer') await this.offer(row, action.deviceId, action.attempt);
        else await this.withdraw(row.id, action.deviceId);
      } catch (error) {
        this.logger.error(
          `Rollout ${row.id}: ${action.type} for ${action.deviceId} failed: ${(error as Error).message}`,
        );
      }
    }
  }

  /**
   * Makes every box's `spec.update` agree with its rollout status (offers lost when a leader died between
   * its commit and its publishes). Run when a replica becomes the leader.
   */
  async reconcile(): Promise<void> {
    for (const box of await this.store.inFlightBoxes()) {
      const rollout = await this.store.find(box.rolloutId);
      if (!rollout) continue;
      try {
        await this.offer(rollout, box.deviceId, box.attempt);
      } catch (error) {
        this.logger.error(`Re-offering ${box.deviceId} failed: ${(error as Error).message}`);
      }
    }
  }

  private async offer(row: RolloutRow, deviceId: string, attempt: number): Promise<void> {
    const arch = (await this.devices.get(deviceId)).hardware?.arch;
    const release = await this.releases.buildFor(row.releaseId, arch);
    const { settings } = row;
    const offer: UpdateOffer = {
      rolloutId: offerIdOf(row.id, attempt),
      release: release.manifest,
      // Boxes pin root version 1 or later at install; they skip versions they already trust.
      roots: (await this.trust.chain(1)).slice(-20),
      url: this.releases.artifactUrl(release.id, deviceId),
      downloadToken: this.releases.issueDownloadToken(deviceId, release.id),
      policy: {
        ...(settings.maintenanceWindow ? { maintenanceWindow: settings.maintenanceWindow } : {}),
        force: settings.force,
        maxWaitSec: settings.maxWaitSec,
        healthDeadlineSec: settings.healthDeadlineSec,
      },
    };
    // A re-offer of the same attempt keeps the token already handed out (no new document version).
    await this.putOffer(deviceId, offer, (current) => current?.rolloutId !== offer.rolloutId);
  }

  private async withdraw(rolloutId: string, deviceId: string): Promise<void> {
    // A rollout only withdraws its own offer.
    await this.putOffer(
      deviceId,
      null,
      (current) => current !== undefined && parseOfferId(current.rolloutId).rolloutId === rolloutId,
    );
  }

  /**
   * Puts the offer in the box's `update` section, or removes it (`offer` null), as a new version, unless
   * the section already holds exactly that or `replaces` refuses the offer in place. A document over the
   * payload cap throws DesiredStateException.
   */
  private async putOffer(
    deviceId: string,
    offer: UpdateOffer | null,
    replaces: (current: UpdateOffer | undefined) => boolean,
  ): Promise<void> {
    await this.desired.write(deviceId, 'update', (state) => {
      const current = state?.desiredSpec.update as UpdateOffer | undefined;
      if (JSON.stringify(current ?? null) === JSON.stringify(offer)) return null;
      if (!replaces(current)) return null;
      return { sections: offer === null ? {} : { update: offer } };
    });
  }
}

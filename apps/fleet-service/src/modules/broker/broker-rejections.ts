import { Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { RateLimitedLog } from '@agentbox/logging';
import type { MetricsService } from '../metrics/metrics.service.js';
import { MQTT_REJECTION_REASONS, type MqttRejectionReason } from './broker.constants.js';

/** Counts every refused CONNECT/PUBLISH/SUBSCRIBE by reason and logs at most one line per reason per 10 s. */
export class BrokerRejections {
  private readonly logger = new Logger('BrokerAuthorization');
  private readonly log = new RateLimitedLog(10_000);
  private readonly counter: Counter<'reason'>;

  constructor(metrics: MetricsService) {
    this.counter = metrics.counter({
      name: 'agentbox_mqtt_rejections_total',
      help: 'MQTT connections, publishes and subscriptions the broker refused, by reason',
      labelNames: ['reason'],
    });
    // Every reason shows up at 0 so dashboards and alerts see the series before the first refusal.
    for (const reason of MQTT_REJECTION_REASONS) this.counter.inc({ reason }, 0);
  }

  record(reason: MqttRejectionReason, clientId: string, detail: string): void {
    this.counter.inc({ reason });
    const line = this.log.line(
      reason,
      `MQTT ${reason} for client ${JSON.stringify(clientId.slice(0, 80))}: ${detail}`,
    );
    if (line !== null) this.logger.warn(line);
  }
}

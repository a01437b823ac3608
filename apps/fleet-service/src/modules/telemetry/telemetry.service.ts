import { Injectable } from '@nestjs/common';
import { METRIC_CATALOG, describeMetric } from '@agentbox/telemetry';
import {
  type DeviceDeliveryResponse,
  type TelemetryCatalogResponse,
  type TelemetryQuery,
  type TelemetryResponse,
} from '@agentbox/schemas';
import { SpoolMarksStore } from './spool-marks.store.js';
import { TelemetryStore } from './telemetry.store.js';

/** Read side of telemetry for the console. */
@Injectable()
export class TelemetryService {
  constructor(
    private readonly store: TelemetryStore,
    private readonly spoolMarks: SpoolMarksStore,
  ) {}

  /** The box's sequence-gap count and spool drops (docs/operations.md, "Sequence gaps"). */
  async delivery(deviceId: string): Promise<DeviceDeliveryResponse> {
    const mark = await this.spoolMarks.get(deviceId);
    return {
      deviceId,
      sequenceGaps: mark?.gaps ?? 0,
      spoolDropped: mark?.dropped ?? 0,
      spoolEpoch: mark?.epoch ?? null,
      lastRecordId: mark?.high ?? null,
      updatedAt: mark?.updatedAt.toISOString() ?? null,
    };
  }

  async series(deviceId: string, query: TelemetryQuery): Promise<TelemetryResponse> {
    const rows = await this.store.query(deviceId, query.since, query.limit);
    return { deviceId, samples: rows.map((row) => ({ ts: row.ts, seq: row.seq, values: row.values })) };
  }

  catalog(name?: string): TelemetryCatalogResponse {
    const response: TelemetryCatalogResponse = {
      metrics: METRIC_CATALOG.map((metric) => ({ ...metric })),
      dynamic: [
        {
          pattern: 'temp.<zone>_c',
          unit: 'celsius',
          type: 'gauge',
          description: 'Temperature of one thermal zone.',
        },
        {
          pattern: 'power.<domain>_w',
          unit: 'watts',
          type: 'gauge',
          description: 'Average power of one RAPL domain.',
        },
      ],
    };
    if (name !== undefined) response.described = describeMetric(name) ?? null;
    return response;
  }
}

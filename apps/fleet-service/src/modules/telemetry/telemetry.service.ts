import { Injectable } from '@nestjs/common';
import { METRIC_CATALOG, describeMetric } from '@agentbox/telemetry';
import {
  AUTO_MINUTE_MAX_MS,
  AUTO_RAW_MAX_MS,
  ROLLUP_BUCKET_MS,
  TELEMETRY_SERIES_MAX_POINTS,
  type DeviceDeliveryResponse,
  type TelemetryCatalogResponse,
  type TelemetryQuery,
  type TelemetryResolution,
  type TelemetryResponse,
  type TelemetrySeriesQuery,
  type TelemetrySeriesResponse,
} from '@agentbox/schemas';
import { SpoolMarksStore } from './spool-marks.store.js';
import { TelemetryException } from './telemetry.exception.js';
import { TelemetryRollupsStore } from './telemetry-rollups.store.js';
import { TelemetryStore } from './telemetry.store.js';

/** Read side of telemetry for the console. */
@Injectable()
export class TelemetryService {
  constructor(
    private readonly store: TelemetryStore,
    private readonly spoolMarks: SpoolMarksStore,
    private readonly rollups: TelemetryRollupsStore,
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

  /**
   * One box's telemetry over a span at a resolution that keeps it readable: the samples as stored for a
   * few hours, 1-minute rollups for days, hourly ones beyond (docs/operations.md, "Telemetry rollups").
   */
  async seriesOf(
    deviceId: string,
    query: TelemetrySeriesQuery,
    now = Date.now(),
  ): Promise<TelemetrySeriesResponse> {
    const to = query.to ?? now;
    const span = to - query.from;
    const resolution = query.resolution === 'auto' ? autoResolution(span) : query.resolution;
    if (resolution === 'raw') {
      const rows = await this.store.range(deviceId, query.from, to, TELEMETRY_SERIES_MAX_POINTS + 1);
      if (rows.length <= TELEMETRY_SERIES_MAX_POINTS) {
        const points = rows.map((row) => ({ ts: row.ts, values: row.values }));
        return { deviceId, resolution, bucketMs: 0, points };
      }
      if (query.resolution === 'raw') throw tooManyPoints('raw', '1m');
      return this.rollupSeries(deviceId, '1m', query.from, to);
    }
    const bucketMs = ROLLUP_BUCKET_MS[resolution];
    if (span / bucketMs > TELEMETRY_SERIES_MAX_POINTS) {
      throw tooManyPoints(resolution, resolution === '1m' ? '1h' : undefined);
    }
    return this.rollupSeries(deviceId, resolution, query.from, to);
  }

  private async rollupSeries(
    deviceId: string,
    resolution: '1m' | '1h',
    from: number,
    to: number,
  ): Promise<TelemetrySeriesResponse> {
    const bucketMs = ROLLUP_BUCKET_MS[resolution];
    const points = await this.rollups.series(deviceId, bucketMs, from, to);
    return { deviceId, resolution, bucketMs, points };
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

function autoResolution(span: number): TelemetryResolution {
  if (span <= AUTO_RAW_MAX_MS) return 'raw';
  return span <= AUTO_MINUTE_MAX_MS ? '1m' : '1h';
}

/** `instead`: a coarser resolution that may hold the span; none past the coarsest, where only a shorter span does. */
function tooManyPoints(
  asked: TelemetryResolution,
  instead: TelemetryResolution | undefined,
): TelemetryException {
  const ask = instead
    ? `ask for resolution=${instead}, or auto, or a shorter span`
    : 'ask for a shorter span';
  return new TelemetryException(
    'TELEMETRY_TOO_MANY_POINTS',
    `This span holds more than ${TELEMETRY_SERIES_MAX_POINTS} points at resolution ${asked}; ${ask}`,
  );
}

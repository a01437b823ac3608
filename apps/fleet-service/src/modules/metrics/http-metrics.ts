import type { FastifyInstance } from 'fastify';
import type { MetricsService } from './metrics.service.js';

/** agentbox_http_requests_total / agentbox_http_request_duration_seconds, labelled by route pattern (bounded). */
export function registerHttpMetrics(fastify: FastifyInstance, metrics: MetricsService): void {
  const requests = metrics.counter({
    name: 'agentbox_http_requests_total',
    help: 'HTTP requests served',
    labelNames: ['method', 'route', 'status'],
  });
  const duration = metrics.histogram({
    name: 'agentbox_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    // Unmatched URLs share one label so scanners cannot grow the label set.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });
}

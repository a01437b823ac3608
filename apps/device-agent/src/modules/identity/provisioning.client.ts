import { Logger } from '@nestjs/common';
import {
  ApiErrorSchema,
  ProvisionResponseSchema,
  type ProvisionRequest,
  type ProvisionResponse,
} from '@agentbox/schemas';
import { backoffDelay, sleep, type BackoffPolicy } from '@agentbox/retry';
import { AgentException, AgentExceptionCode } from '../../common/agent-exception.js';
import { CLOUD_BACKOFF } from '../../common/backoff.js';

const REQUEST_TIMEOUT_MS = 15_000;

/** A failure worth retrying: network trouble, timeouts, 5xx, 429, or a reply that is not ours. */
class RetryableProvisionError extends Error {}

/** Client of `POST {fleetUrl}/api/v1/provision`, retrying transient failures until it succeeds or is told no. */
export class ProvisioningClient {
  private readonly logger = new Logger('Provisioning');

  constructor(
    private readonly fleetUrl: string,
    private readonly backoff: BackoffPolicy = CLOUD_BACKOFF,
  ) {}

  async provision(request: ProvisionRequest, signal?: AbortSignal): Promise<ProvisionResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(request);
      } catch (error) {
        if (!(error instanceof RetryableProvisionError)) throw error;
        if (signal?.aborted) throw error;
        const delay = backoffDelay(attempt, this.backoff);
        this.logger.warn(
          { attempt: attempt + 1, retryInMs: delay, reason: error.message },
          'provisioning failed, retrying',
        );
        await sleep(delay, signal);
      }
    }
  }

  private async once(request: ProvisionRequest): Promise<ProvisionResponse> {
    const url = `${this.fleetUrl}/api/v1/provision`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new RetryableProvisionError(`cannot reach ${url}: ${cause ?? (error as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.ok) {
      const parsed = ProvisionResponseSchema.safeParse(body);
      if (!parsed.success) throw new RetryableProvisionError(`unexpected provisioning reply from ${url}`);
      return parsed.data;
    }
    const apiError = ApiErrorSchema.safeParse(body);
    const code = apiError.success ? apiError.data.code : `HTTP_${response.status}`;
    const message = apiError.success ? apiError.data.message : text.slice(0, 200) || response.statusText;
    if (response.status === 401 || response.status === 403) {
      throw new AgentException(
        AgentExceptionCode.CLAIM_REJECTED,
        `the fleet service rejected the claim token: ${code}: ${message}`,
        'create a new claim token in the console (Add box) and set AGENTBOX_CLAIM_TOKEN to it',
      );
    }
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      throw new RetryableProvisionError(`${url} answered ${response.status} ${code}: ${message}`);
    }
    throw new AgentException(
      AgentExceptionCode.PROVISION_REFUSED,
      `the fleet service refused provisioning: ${response.status} ${code}: ${message}`,
      `check AGENTBOX_FLEET_URL (${this.fleetUrl}) points at the fleet service, and the agent and service versions`,
    );
  }
}

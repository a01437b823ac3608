/** A small typed-enough HTTP client for the fleet service's REST API, for tests. */
export interface ApiResponse<T> {
  status: number;
  body: T;
}

export interface DeviceView {
  id: string;
  name: string;
  hardwareId: string;
  online: boolean;
  lastSeenAt: string | null;
  connectedAt: string | null;
  agentVersion: string | null;
  tags: string[];
}

export class FleetApi {
  private token: string | undefined;

  constructor(readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    { auth = true, rawBody }: { auth?: boolean; rawBody?: string } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
    if (auth && this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (e.g. /metrics)
    }
    return { status: response.status, body: parsed as T };
  }

  async login(username: string, password: string): Promise<void> {
    const response = await this.request<{ accessToken: string }>(
      'POST',
      '/api/v1/auth/login',
      { username, password },
      { auth: false },
    );
    if (response.status !== 200 && response.status !== 201) {
      throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
    }
    this.token = response.body.accessToken;
  }

  get accessToken(): string {
    if (!this.token) throw new Error('not logged in');
    return this.token;
  }

  async createClaimToken(body: { ttlHours?: number; maxUses?: number } = {}): Promise<string> {
    const response = await this.request<{ token: string }>('POST', '/api/v1/claim-tokens', body);
    if (response.status >= 300)
      throw new Error(`claim token: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.token;
  }

  async devices(): Promise<DeviceView[]> {
    const response = await this.request<{ items: DeviceView[] }>('GET', '/api/v1/devices');
    if (response.status !== 200)
      throw new Error(`devices: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.items;
  }

  async device(id: string): Promise<DeviceView> {
    const response = await this.request<DeviceView>('GET', `/api/v1/devices/${id}`);
    if (response.status !== 200) throw new Error(`device ${id}: ${response.status}`);
    return response.body;
  }

  async telemetry(
    id: string,
    limit = 5000,
  ): Promise<Array<{ ts: number; seq: number; values: Record<string, number> }>> {
    const response = await this.request<{
      samples: Array<{ ts: number; seq: number; values: Record<string, number> }>;
    }>('GET', `/api/v1/devices/${id}/telemetry?limit=${limit}&since=0`);
    if (response.status !== 200) throw new Error(`telemetry ${id}: ${response.status}`);
    return response.body.samples;
  }

  async metrics(): Promise<string> {
    const response = await this.request<string>('GET', '/metrics', undefined, { auth: false });
    return response.body;
  }
}

/** Reads one counter value (summed over series matching every given label) from Prometheus text. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-+\d.eE]+|NaN)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) {
      total += Number(match[3]);
    }
  }
  return total;
}

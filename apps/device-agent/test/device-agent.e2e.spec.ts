import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BirthMessageSchema,
  CommandResultMessageSchema,
  ReportedStateMessageSchema,
  StatusMessageSchema,
  TelemetryMessageSchema,
  topics,
} from '@agentbox/schemas';
import { DeviceAgentProcess, ensureBuilt, logOnFailure } from './support/device-agent-process.js';
import { NotifyReceiver } from './support/notify-receiver.js';
import { FakeFleet, waitFor, type ReceivedMessage } from './support/fake-fleet.js';

const KEEPALIVE_SEC = 2;

function seqOf(message: ReceivedMessage): number {
  return message.json.seq as number;
}

/**
 * Every telemetry sample received, once each by its storage key (seq, index in the message), oldest first:
 * the outbox coalesces a backlog into one message, so samples, not messages, are what to count.
 */
function telemetrySamples(fleet: FakeFleet): Array<{ key: string; ts: number }> {
  const byKey = new Map<string, { key: string; ts: number }>();
  for (const message of fleet.messages('/up/telemetry')) {
    const telemetry = TelemetryMessageSchema.parse(message.json);
    telemetry.samples.forEach((sample, idx) => {
      const key = `${telemetry.seq}/${idx}`;
      byKey.set(key, { key, ts: sample.ts });
    });
  }
  return [...byKey.values()].sort((a, b) => a.ts - b.ts);
}

/** The retained `up/status` as a fresh subscriber sees it. */
async function retainedStatus(fleet: FakeFleet, deviceId: string): Promise<Record<string, unknown>> {
  const client = await mqtt.connectAsync(fleet.mqttUrl, {
    protocolVersion: 5,
    clientId: 'observer',
    username: 'observer',
    reconnectPeriod: 0,
  });
  try {
    const got = new Promise<Record<string, unknown>>((resolve) => {
      client.on('message', (_topic, payload, packet) => {
        if (packet.retain) resolve(JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
      });
    });
    await client.subscribeAsync(topics.status(deviceId), { qos: 1 });
    return await Promise.race([
      got,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no retained status')), 5_000)),
    ]);
  } finally {
    await client.endAsync(true);
  }
}

describe('device agent as a real process against a real broker and provisioning endpoint', () => {
  const fleet = new FakeFleet();
  let stateDir: string;
  let deviceAgent: DeviceAgentProcess | undefined;
  let deviceId = '';
  const baseEnv = () => ({
    AGENTBOX_FLEET_URL: fleet.fleetUrl,
    AGENTBOX_STATE_DIR: stateDir,
    AGENTBOX_TELEMETRY_INTERVAL_SEC: '1',
    AGENTBOX_MQTT_KEEPALIVE_SEC: String(KEEPALIVE_SEC),
    AGENTBOX_LOG_LEVEL: 'debug',
    AGENTBOX_DEVICE_NAME: 'e2e-box',
  });

  beforeAll(async () => {
    ensureBuilt();
    stateDir = join(await mkdtemp(join(tmpdir(), 'agentbox-e2e-')), 'state');
    await fleet.start();
  });

  logOnFailure(() => deviceAgent, 30);

  afterAll(async () => {
    await deviceAgent?.dispose();
    await fleet.stop();
    await rm(join(stateDir, '..'), { recursive: true, force: true });
  });

  it('refuses to start on first boot without a claim token (exit 78, clear message)', async () => {
    const run = new DeviceAgentProcess({ ...baseEnv() }).start();
    const exit = await run.exit!;
    expect(exit.code).toBe(78);
    expect(run.stderr).toContain('AGENTBOX_CLAIM_TOKEN is not set');
  });

  it('exits 77 with the server code when the claim token is rejected', async () => {
    const run = new DeviceAgentProcess({
      ...baseEnv(),
      AGENTBOX_CLAIM_TOKEN: 'wrong-token-0123456789',
    }).start();
    const exit = await run.exit!;
    expect(exit.code).toBe(77);
    expect(run.stderr).toContain('CLAIM_TOKEN_INVALID');
    expect(run.stderr).toContain('hint:');
    expect(run.stderr + JSON.stringify(run.logs)).not.toContain(fleet.claimToken);
  });

  it('keeps retrying enrolment while the fleet is unreachable, and stops cleanly on SIGTERM', async () => {
    const otherState = join(stateDir, '..', 'unreachable');
    const run = new DeviceAgentProcess({
      ...baseEnv(),
      AGENTBOX_STATE_DIR: otherState,
      AGENTBOX_FLEET_URL: 'http://127.0.0.1:9',
      AGENTBOX_CLAIM_TOKEN: fleet.claimToken,
    }).start();
    await waitFor(
      () => run.logs.filter((line) => line.msg === 'provisioning failed, retrying').length >= 2,
      15_000,
      'retries',
    );
    run.kill('SIGTERM');
    expect((await run.exit!).code).toBe(0);
  });

  it('enrolls, stores credentials 0600, says online and sends its birth', async () => {
    deviceAgent = new DeviceAgentProcess({ ...baseEnv(), AGENTBOX_CLAIM_TOKEN: fleet.claimToken }).start();
    const birth = await waitFor(() => fleet.messages('/up/birth')[0], 20_000, 'birth');
    const credentials = JSON.parse(await readFile(join(stateDir, 'credentials.json'), 'utf8')) as {
      deviceId: string;
      mqtt: { password: string };
    };
    deviceId = credentials.deviceId;
    expect(fleet.provisionCalls).toHaveLength(1);
    expect(fleet.provisionCalls[0]!.name).toBe('e2e-box');
    expect((await stat(join(stateDir, 'credentials.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect(credentials.mqtt.password).toBe(fleet.secrets.get(deviceId));
    expect(JSON.stringify(deviceAgent.logs)).not.toContain(credentials.mqtt.password);

    const status = fleet.messages(`${deviceId}/up/status`);
    expect(status[0]!.retain).toBe(true);
    expect(StatusMessageSchema.parse(status[0]!.json).state).toBe('online');
    const parsedBirth = BirthMessageSchema.parse(birth.json);
    expect(birth.topic).toBe(topics.birth(deviceId));
    expect(parsedBirth.capabilities).toEqual(['telemetry', 'desired-state', 'commands']);
    expect(parsedBirth.telemetryIntervalSec).toBe(1);
    expect(parsedBirth.agentVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(parsedBirth.metrics.length).toBeGreaterThan(0);
    expect(seqOf(birth)).toBeGreaterThan(seqOf(status[0]!));
  });

  it('sends telemetry with increasing seq', async () => {
    const telemetry = await waitFor(
      () => {
        const list = fleet.messages('/up/telemetry');
        return list.length >= 3 ? list : undefined;
      },
      15_000,
      'three telemetry messages',
    );
    const seqs = telemetry.map((message) => TelemetryMessageSchema.parse(message.json).seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    expect(
      Object.keys(TelemetryMessageSchema.parse(telemetry[0]!.json).samples[0]!.values).length,
    ).toBeGreaterThan(0);
  });

  it('takes the desired state, ignores an older version, reports invalid documents', async () => {
    await fleet.publish(
      topics.desired(deviceId),
      { v: 1, version: 5, ts: Date.now(), spec: { telemetry: { intervalSec: 2 } } },
      { retain: true },
    );
    const applied = await waitFor(
      () => fleet.messages('/up/state').find((message) => message.json.desiredVersion === 5),
      10_000,
      'state report of version 5',
    );
    expect(ReportedStateMessageSchema.parse(applied.json).current.telemetryIntervalSec).toBe(2);
    const stored = JSON.parse(await readFile(join(stateDir, 'desired.json'), 'utf8')) as { version: number };
    expect(stored.version).toBe(5);

    const before = fleet.messages('/up/state').length;
    await fleet.publish(topics.desired(deviceId), {
      v: 1,
      version: 3,
      ts: Date.now(),
      spec: { telemetry: { intervalSec: 7 } },
    });
    const afterOlder = await waitFor(
      () => fleet.messages('/up/state')[before],
      10_000,
      'state report after an older version',
    );
    expect(afterOlder.json.desiredVersion).toBe(5);
    expect((afterOlder.json.current as { telemetryIntervalSec: number }).telemetryIntervalSec).toBe(2);

    await fleet.publish(topics.desired(deviceId), { v: 1, version: 'nine', spec: {} });
    const event = await waitFor(() => fleet.messages('/up/events')[0], 10_000, 'invalid-desired event');
    const events = event.json.events as { type: string; level: string }[];
    expect(events[0]).toMatchObject({ type: 'desired-state.invalid', level: 'error' });

    // Back to one-second telemetry for the rest of the run.
    await fleet.publish(
      topics.desired(deviceId),
      { v: 1, version: 6, ts: Date.now(), spec: { telemetry: { intervalSec: 1 } } },
      { retain: true },
    );
    await waitFor(
      () => fleet.messages('/up/state').find((message) => message.json.desiredVersion === 6),
      10_000,
      'version 6',
    );
  });

  it('answers commands on the response topic with the correlation data, refuses expired and unknown ones', async () => {
    const now = Date.now();
    const correlationData = Buffer.from('corr-123');
    const command = (id: string, name: string, expiresAt: number) => ({
      v: 1,
      id,
      name,
      args: {},
      issuedAt: now,
      expiresAt,
    });
    await fleet.publish(topics.command(deviceId, 'c-ping'), command('c-ping', 'ping', now + 60_000), {
      properties: { responseTopic: topics.result(deviceId, 'c-ping'), correlationData },
    });
    await fleet.publish(topics.command(deviceId, 'c-old'), command('c-old', 'ping', now - 1_000));
    await fleet.publish(
      topics.command(deviceId, 'c-what'),
      command('c-what', 'reboot-the-moon', now + 60_000),
    );
    const ping = await waitFor(() => fleet.messages('/up/results/c-ping')[0], 10_000, 'ping result');
    const pingResult = CommandResultMessageSchema.parse(ping.json);
    expect(pingResult.status).toBe('succeeded');
    expect(pingResult.output).toMatchObject({ pong: true });
    expect(Buffer.from(ping.properties!.correlationData as Buffer).toString()).toBe('corr-123');
    const expired = await waitFor(() => fleet.messages('/up/results/c-old')[0], 10_000, 'expired result');
    expect(expired.json.status).toBe('expired');
    const unknown = await waitFor(() => fleet.messages('/up/results/c-what')[0], 10_000, 'unknown result');
    expect(unknown.json.status).toBe('rejected');
    await fleet.publish(
      topics.command(deviceId, 'c-report'),
      command('c-report', 'report-state', now + 60_000),
    );
    const report = await waitFor(
      () => fleet.messages('/up/results/c-report')[0],
      10_000,
      'report-state result',
    );
    expect(report.json).toMatchObject({
      status: 'succeeded',
      output: { desiredVersion: 6, current: { telemetryIntervalSec: 1 } },
    });
    // A malformed command is answered too, as rejected, and the device agent keeps serving.
    await fleet.publish(topics.command(deviceId, 'c-bad'), { v: 1, id: 'c-bad', name: 'Not A Name' });
    const bad = await waitFor(
      () => fleet.messages('/up/results/c-bad')[0],
      10_000,
      'malformed command result',
    );
    expect(bad.json.status).toBe('rejected');
  });

  it('leaves a retained offline Last Will after kill -9', async () => {
    const killedAt = Date.now();
    deviceAgent!.kill('SIGKILL');
    await deviceAgent!.exit;
    const will = await waitFor(
      () =>
        fleet
          .messages(`${deviceId}/up/status`)
          .find((message) => message.at >= killedAt && message.json.state === 'offline'),
      KEEPALIVE_SEC * 1_500 + 5_000,
      'the Last Will',
    );
    expect(will.retain).toBe(true);
    expect((await retainedStatus(fleet, deviceId)).state).toBe('offline');
  });

  it('restarts on stored credentials without a claim token, seq going on past the old numbers', async () => {
    const highest = Math.max(
      ...fleet.received
        .filter((m) => m.topic.includes(deviceId))
        .map(seqOf)
        .filter(Number.isFinite),
    );
    const since = fleet.received.length;
    // As the fleet service does, a command goes out the moment the box says `online`: the box must
    // already be subscribed (clean session: the broker drops a command nobody is subscribed to).
    const stopListening = fleet.onReceived((message) => {
      if (message.topic !== topics.status(deviceId) || message.json.state !== 'online') return;
      const now = Date.now();
      fleet
        .publish(
          topics.command(deviceId, 'c-at-online'),
          { v: 1, id: 'c-at-online', name: 'ping', args: {}, issuedAt: now, expiresAt: now + 60_000 },
          { properties: { responseTopic: topics.result(deviceId, 'c-at-online') } },
        )
        .catch(() => undefined);
    });
    deviceAgent = new DeviceAgentProcess(baseEnv()).start();
    const online = await waitFor(
      () =>
        fleet.received.slice(since).find((m) => m.topic.endsWith('/up/status') && m.json.state === 'online'),
      15_000,
      'online after restart',
    );
    expect(fleet.provisionCalls).toHaveLength(1);
    expect(seqOf(online)).toBeGreaterThan(highest);
    // The retained desired state (version 6) comes back after the reconnect.
    await waitFor(
      () =>
        fleet.received.slice(since).find((m) => m.topic.endsWith('/up/state') && m.json.desiredVersion === 6),
      10_000,
      'state after restart',
    );
    expect((await retainedStatus(fleet, deviceId)).state).toBe('online');
    const answered = await waitFor(
      () => fleet.messages('/up/results/c-at-online')[0],
      10_000,
      'the answer to a command sent on seeing online',
    );
    stopListening();
    expect(answered.json.status).toBe('succeeded');
  });

  it('replays the spool after a broker restart with no telemetry lost', async () => {
    // Two samples from the running process first, so the window below starts inside its lifetime.
    const seenBefore = fleet.messages('/up/telemetry').length;
    const lastBefore = await waitFor(
      () => fleet.messages('/up/telemetry')[seenBefore + 1],
      10_000,
      'telemetry',
    );
    const stoppedAt = Date.now();
    await fleet.stopBroker();
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    await fleet.startBroker();
    const restartedAt = Date.now();
    // Every sample taken while the broker was away arrives once it is back.
    await waitFor(
      () => fleet.messages('/up/telemetry').filter((m) => m.at >= restartedAt).length >= 4,
      40_000,
      'replayed telemetry',
    );
    const samples = telemetrySamples(fleet);
    const during = samples.filter((sample) => sample.ts >= stoppedAt && sample.ts <= restartedAt);
    expect(during.length).toBeGreaterThanOrEqual(2);
    // No hole in the sample stream: consecutive samples are about one interval apart.
    const around = samples.filter((sample) => sample.ts >= (lastBefore.json.ts as number));
    const timeline = around.map((sample) => `${sample.key}@${sample.ts - stoppedAt}`).join(' ');
    for (let i = 1; i < around.length; i++) {
      expect(around[i]!.ts - around[i - 1]!.ts, timeline).toBeLessThan(2_500);
    }
    // Spool record ids (docs/protocol.md section 2): every id from the first to the last seen since arrived.
    const ids = new Set<number>();
    const window = fleet.received.filter((m) => m.topic.includes(deviceId) && m.at >= lastBefore.at);
    for (const message of window) {
      const spool = message.json.spool as { first: number; last: number } | undefined;
      for (let id = spool?.first ?? 1; spool && id <= spool.last; id++) ids.add(id);
    }
    const sorted = [...ids].sort((a, b) => a - b);
    expect(sorted.length).toBeGreaterThan(0);
    expect(sorted.length).toBe(sorted.at(-1)! - sorted[0]! + 1);
  });

  it('replays records spooled before a kill -9 after the restart', async () => {
    await fleet.stopBroker();
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    deviceAgent!.kill('SIGKILL');
    await deviceAgent!.exit;
    const killedAt = Date.now();
    await fleet.startBroker();
    deviceAgent = new DeviceAgentProcess(baseEnv()).start();
    const spooled = await waitFor(
      () => {
        const list = telemetrySamples(fleet).filter(
          (sample) => sample.ts >= stoppedAt && sample.ts <= killedAt,
        );
        return list.length >= 2 ? list : undefined;
      },
      20_000,
      'telemetry spooled before the kill',
    );
    expect(spooled.length).toBeGreaterThanOrEqual(2);
  });

  it('re-enrolls once when the broker refuses the stored secret and a claim token is set', async () => {
    deviceAgent!.kill('SIGTERM');
    expect((await deviceAgent!.exit!).code).toBe(0);
    // Clean shutdown: the retained status says offline with reason shutdown (not the will).
    const retained = await retainedStatus(fleet, deviceId);
    expect(retained).toMatchObject({ state: 'offline', reason: 'shutdown' });
    fleet.secrets.set(deviceId, 'rotated-elsewhere-000000000000');
    const calls = fleet.provisionCalls.length;
    const since = fleet.received.length;
    deviceAgent = new DeviceAgentProcess({ ...baseEnv(), AGENTBOX_CLAIM_TOKEN: fleet.claimToken }).start();
    await waitFor(
      () =>
        fleet.received
          .slice(since)
          .find((m) => m.topic === topics.status(deviceId) && m.json.state === 'online'),
      20_000,
      'online after re-enrolment',
    );
    expect(fleet.provisionCalls.length).toBe(calls + 1);
    const credentials = JSON.parse(await readFile(join(stateDir, 'credentials.json'), 'utf8')) as {
      deviceId: string;
    };
    expect(credentials.deviceId).toBe(deviceId);
  });
  it('tells systemd READY=1 once connected and feeds the watchdog (real notify socket)', async () => {
    deviceAgent!.kill('SIGTERM');
    await deviceAgent!.exit;
    const receiver = new NotifyReceiver(join(stateDir, '..', 'notify.sock'));
    await receiver.start();
    try {
      const since = fleet.received.length;
      deviceAgent = new DeviceAgentProcess({
        ...baseEnv(),
        NOTIFY_SOCKET: receiver.socketPath,
        WATCHDOG_USEC: '1000000',
      }).start();
      await waitFor(() => receiver.assignments.includes('READY=1'), 15_000, 'READY=1');
      // READY comes after the box is online, not before.
      expect(
        fleet.received.slice(since).some((m) => m.topic.endsWith('/up/status') && m.json.state === 'online'),
      ).toBe(true);
      await waitFor(
        () => receiver.assignments.filter((line) => line === 'WATCHDOG=1').length >= 3,
        10_000,
        'watchdog pings',
      );
      expect(receiver.assignments.some((line) => line.startsWith('STATUS=connected'))).toBe(true);
      deviceAgent.kill('SIGTERM');
      expect((await deviceAgent.exit!).code).toBe(0);
      expect(receiver.assignments).toContain('STOPPING=1');
    } finally {
      receiver.stop();
    }
  });
});

// Fleet simulator: enrols N boxes with a claim token, connects them over MQTT 5 as the device agent does
// (subscribe to down/, retained `online`, birth, numbered telemetry at QoS 1) and reports every few seconds
// how many are connected and how many samples the broker acknowledged. Load-tests any deployment:
//   npm run sim -- --boxes 1000 --url https://fleet.example.com --claim-token <token>
// The claim token needs at least --boxes uses (console: Devices, "Add a box"; or POST /api/v1/claim-tokens).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { provisionBox, syntheticSamples, type SimulatedBox } from '@agentbox/test-support';
import { connectRetryingBox } from '../support/fleet-boxes.js';

const USAGE = `Usage: npm run sim -- --boxes N --url FLEET_URL --claim-token TOKEN [options]

  --boxes N            boxes to enrol and connect (default 10)
  --url URL            the fleet service's HTTP address, e.g. http://127.0.0.1:8080
  --claim-token TOKEN  a claim token with at least N uses
  --mqtt-url URL       broker address to use instead of the one enrolment returns
  --interval SEC       seconds between a box's telemetry messages (default 5)
  --samples N          samples per telemetry message (default 1)
  --duration SEC       stop after this many seconds (default: run until Ctrl-C)
  --in-flight N        enrolments and connects at once (default 50)`;

interface Options {
  boxes: number;
  url: string;
  claimToken: string;
  mqttUrl?: string;
  intervalSec: number;
  samples: number;
  durationSec?: number;
  inFlight: number;
}

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a positive number, got "${raw}"`);
  return value;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      boxes: { type: 'string' },
      url: { type: 'string' },
      'claim-token': { type: 'string' },
      'mqtt-url': { type: 'string' },
      interval: { type: 'string' },
      samples: { type: 'string' },
      duration: { type: 'string' },
      'in-flight': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!values.url || !values['claim-token']) throw new Error('--url and --claim-token are required');
  return {
    boxes: Math.floor(positive('boxes', values.boxes, 10)),
    url: values.url.replace(/\/+$/, ''),
    claimToken: values['claim-token'],
    ...(values['mqtt-url'] ? { mqttUrl: values['mqtt-url'] } : {}),
    intervalSec: positive('interval', values.interval, 5),
    samples: Math.floor(positive('samples', values.samples, 1)),
    ...(values.duration ? { durationSec: positive('duration', values.duration, 0) } : {}),
    inFlight: Math.floor(positive('in-flight', values['in-flight'], 50)),
  };
}

interface Counters {
  enrolled: number;
  acknowledged: number;
  failed: number;
}

async function startBoxes(options: Options, counters: Counters): Promise<SimulatedBox[]> {
  const boxes: SimulatedBox[] = [];
  const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  let next = 0;
  const worker = async () => {
    while (next < options.boxes) {
      const index = next++;
      const enrolled = await provisionBox(options.url, {
        claimToken: options.claimToken,
        hardwareId: `sim-${run}-${index}`,
        name: `sim-${index}`,
      });
      counters.enrolled += 1;
      boxes.push(
        await connectRetryingBox(
          options.mqttUrl ?? enrolled.mqtt.url,
          enrolled.deviceId,
          enrolled.mqtt.password,
          {
            birth: true,
          },
        ),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.inFlight, options.boxes) }, worker));
  return boxes;
}

/** Each box publishes on its own timer, spread over the interval so the fleet does not pulse. */
function publishTelemetry(boxes: SimulatedBox[], options: Options, counters: Counters): () => void {
  const timers = boxes.map((box) => {
    const tick = () => {
      if (!box.connected) return;
      box.telemetry(syntheticSamples(options.samples)).then(
        () => (counters.acknowledged += options.samples),
        () => (counters.failed += options.samples),
      );
    };
    let interval: NodeJS.Timeout | undefined;
    const start = setTimeout(
      () => {
        tick();
        interval = setInterval(tick, options.intervalSec * 1000);
      },
      Math.random() * options.intervalSec * 1000,
    );
    return () => {
      clearTimeout(start);
      clearInterval(interval);
    };
  });
  return () => timers.forEach((stop) => stop());
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const counters: Counters = { enrolled: 0, acknowledged: 0, failed: 0 };
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  console.log(`enrolling and connecting ${options.boxes} boxes to ${options.url}`);
  const boxes = await startBoxes(options, counters);
  console.log(`${boxes.length} boxes connected after ${elapsed()}`);
  const stopTelemetry = publishTelemetry(boxes, options, counters);
  const report = setInterval(() => {
    const connected = boxes.filter((box) => box.connected).length;
    console.log(
      `${elapsed()}: ${connected}/${boxes.length} connected, ${counters.acknowledged} samples acknowledged, ` +
        `${counters.failed} not`,
    );
  }, 5_000);
  const stop = async () => {
    clearInterval(report);
    stopTelemetry();
    await Promise.all(boxes.map((box) => box.close().catch(() => undefined)));
    console.log(
      `done after ${elapsed()}: ${counters.enrolled} boxes enrolled, ${counters.acknowledged} samples acknowledged, ` +
        `${counters.failed} not`,
    );
    process.exit(counters.failed > 0 ? 1 : 0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  if (options.durationSec !== undefined) setTimeout(() => void stop(), options.durationSec * 1000);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  console.error(USAGE);
  process.exit(2);
});

/**
 * TEST ENTRY of the device agent, for test/ota-kill.e2e.spec.ts, which kills the real process at each
 * step of an update. It boots the same box as src/main.ts (box-process.ts, BoxModule) with two
 * providers replaced through Nest's testing module:
 *
 * - UpdateFlowCheckpoints: with `AGENTBOX_OTA_TEST_HOLD_AT=<checkpoint>`, the update flow parks at that
 *   checkpoint (every time it reaches it) until the flow is stopped, so a test can kill the process at
 *   a step that otherwise lasts milliseconds.
 * - LocalClock: with `AGENTBOX_OTA_TEST_LOCAL_TIME_FILE=<path>`, maintenance windows are evaluated
 *   against the `HH:MM` in that file (read at every check), so a test can open a window.
 *
 * buildSlimBundle (ota-box.ts) compiles this file into a test bundle as its `dist/main.js`, which the
 * launcher starts from the slot; it loads the application from the dist/ it sits in, so it runs the
 * version of the box that bundle carries. It is never part of the device agent's build or its bundles.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type * as BoxProcess from '../../src/box-process.js';
import type * as BoxModuleFile from '../../src/box.module.js';
import type * as FlowCheckpointsFile from '../../src/modules/ota/flow-checkpoints.js';
import type * as LocalClockFile from '../../src/modules/ota/local-clock.js';

/** A module of the dist/ this entry sits in, once compiled into a bundle. */
const fromDist = async <T>(path: string): Promise<T> =>
  (await import(new URL(path, import.meta.url).href)) as T;

const { runBoxProcess } = await fromDist<typeof BoxProcess>('./box-process.js');
const { BoxModule } = await fromDist<typeof BoxModuleFile>('./box.module.js');
const { FLOW_CHECKPOINTS, UpdateFlowCheckpoints, PassingCheckpoints } = await fromDist<
  typeof FlowCheckpointsFile
>('./modules/ota/flow-checkpoints.js');
const { LocalClock, SystemLocalClock } = await fromDist<typeof LocalClockFile>(
  './modules/ota/local-clock.js',
);

type FlowCheckpoint = FlowCheckpointsFile.FlowCheckpoint;

class HoldAt extends UpdateFlowCheckpoints {
  private readonly logger = new Logger('Ota');

  constructor(private readonly point: FlowCheckpoint) {
    super();
  }

  async reached(point: FlowCheckpoint, signal?: AbortSignal): Promise<void> {
    if (point !== this.point) return;
    this.logger.warn({ point }, 'update flow held by a test hook');
    await new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    signal?.throwIfAborted();
  }
}

class FileClock extends LocalClock {
  constructor(private readonly path: string) {
    super();
  }

  minuteOfDay(): number {
    const match = /^(\d{2}):(\d{2})/.exec(readFileSync(this.path, 'utf8').trim());
    if (!match) throw new Error(`${this.path} does not hold a local time HH:MM`);
    return Number(match[1]) * 60 + Number(match[2]);
  }
}

function checkpoints(holdAt: string | undefined): InstanceType<typeof UpdateFlowCheckpoints> {
  if (!holdAt) return new PassingCheckpoints();
  if (!(FLOW_CHECKPOINTS as readonly string[]).includes(holdAt))
    throw new Error(`AGENTBOX_OTA_TEST_HOLD_AT must be one of ${FLOW_CHECKPOINTS.join(', ')}`);
  return new HoldAt(holdAt as FlowCheckpoint);
}

const clockFile = process.env.AGENTBOX_OTA_TEST_LOCAL_TIME_FILE;

runBoxProcess(async (config, logger) => {
  const app = await Test.createTestingModule({ imports: [BoxModule.forConfig(config)] })
    .setLogger(logger)
    .overrideProvider(UpdateFlowCheckpoints)
    .useValue(checkpoints(process.env.AGENTBOX_OTA_TEST_HOLD_AT))
    .overrideProvider(LocalClock)
    .useValue(clockFile ? new FileClock(clockFile) : new SystemLocalClock())
    .compile();
  return app.init();
});

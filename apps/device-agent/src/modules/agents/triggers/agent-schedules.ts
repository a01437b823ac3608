import { Cron } from 'croner';
import type { Trigger } from '@agentbox/schemas';
import type { InstalledAgent, RunTrigger, TriggerOutcome } from '../agents.contracts.js';

/** Where a fired trigger goes (AgentSupervisor.trigger). */
export type FireRun = (
  agentId: string,
  trigger: RunTrigger,
  input: string | undefined,
  /** The conversation the input is a message of (the `agent.run` command). */
  conversationId?: string,
) => TriggerOutcome | Promise<TriggerOutcome>;

export interface SchedulesLogger {
  log(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

type TimedTrigger = Extract<Trigger, { type: 'cron' | 'interval' }>;

interface Armed {
  /** The agent's timed triggers as JSON: re-armed only when they change. */
  signature: string;
  stops: (() => void)[];
  problems: string[];
}

function timedTriggers(agent: InstalledAgent): TimedTrigger[] {
  return agent.definition.triggers.filter(
    (trigger): trigger is TimedTrigger => trigger.type === 'cron' || trigger.type === 'interval',
  );
}

/**
 * Cron (croner) and interval schedules of the installed agents. Timers live in this process, so an
 * agent between runs costs a timer and no process of its own. Schedules are re-armed when an agent's
 * triggers change and cleared when it is removed.
 */
export class AgentSchedules {
  private readonly armed = new Map<string, Armed>();
  private stopped = false;

  constructor(
    private readonly fire: FireRun,
    private readonly logger: SchedulesLogger,
  ) {}

  /** Makes the armed schedules match these agents. */
  sync(agents: readonly InstalledAgent[]): void {
    if (this.stopped) return;
    const wanted = new Map(agents.map((agent) => [agent.id, agent]));
    for (const agentId of [...this.armed.keys()]) {
      if (!wanted.has(agentId)) this.clear(agentId);
    }
    for (const agent of wanted.values()) {
      const triggers = timedTriggers(agent);
      const signature = JSON.stringify(triggers);
      if (this.armed.get(agent.id)?.signature === signature) continue;
      this.clear(agent.id);
      if (triggers.length > 0) this.arm(agent.id, triggers, signature);
    }
  }

  /** Schedule problems (a cron expression croner refuses), by agent id. */
  problems(agentId: string): readonly string[] {
    return this.armed.get(agentId)?.problems ?? [];
  }

  /** The next time each armed cron schedule of the agent fires (for reports and tests). */
  nextRuns(agentId: string): Date[] {
    return (
      this.nextRunGetters
        .get(agentId)
        ?.map((next) => next())
        .filter((d): d is Date => d !== null) ?? []
    );
  }

  armedAgents(): string[] {
    return [...this.armed.keys()];
  }

  stop(): void {
    this.stopped = true;
    for (const agentId of [...this.armed.keys()]) this.clear(agentId);
  }

  private readonly nextRunGetters = new Map<string, (() => Date | null)[]>();

  private arm(agentId: string, triggers: TimedTrigger[], signature: string): void {
    const armed: Armed = { signature, stops: [], problems: [] };
    const nextRuns: (() => Date | null)[] = [];
    for (const trigger of triggers) {
      if (trigger.type === 'interval') {
        const timer = setInterval(
          () =>
            this.fireNow(agentId, { type: 'interval', detail: `every ${trigger.everySec} s` }, trigger.input),
          trigger.everySec * 1_000,
        );
        armed.stops.push(() => clearInterval(timer));
        continue;
      }
      try {
        const job = new Cron(
          trigger.expression,
          { timezone: trigger.timezone, mode: '5-or-6-parts', catch: true },
          () =>
            this.fireNow(agentId, { type: 'cron', detail: trigger.expression.slice(0, 200) }, trigger.input),
        );
        armed.stops.push(() => job.stop());
        nextRuns.push(() => job.nextRun());
      } catch (error) {
        const problem = `cron "${trigger.expression}" cannot be scheduled: ${(error as Error).message}`;
        armed.problems.push(problem);
        this.logger.warn('agent schedule refused', { agentId, problem });
      }
    }
    this.armed.set(agentId, armed);
    this.nextRunGetters.set(agentId, nextRuns);
    this.logger.log('agent schedules armed', { agentId, schedules: armed.stops.length });
  }

  private clear(agentId: string): void {
    const armed = this.armed.get(agentId);
    if (!armed) return;
    for (const stop of armed.stops) stop();
    this.armed.delete(agentId);
    this.nextRunGetters.delete(agentId);
  }

  private fireNow(agentId: string, trigger: RunTrigger, input: string | undefined): void {
    if (this.stopped) return;
    void Promise.resolve()
      .then(() => this.fire(agentId, trigger, input))
      .then(
        (outcome) => {
          if (!outcome.accepted)
            this.logger.log('scheduled run not started', {
              agentId,
              trigger: trigger.type,
              reason: outcome.reason,
            });
        },
        (error: unknown) =>
          this.logger.warn('scheduled run failed to start', { agentId, err: (error as Error).message }),
      );
  }
}

import type { RunRecord } from '@agentbox/schemas';
import type { AgentsLogger } from '../agents.contracts.js';
import type { ReportJournal } from '../reporting/report-journal.js';
import type { RunReporter } from '../agents.contracts.js';
import type { RunStore } from '../store/run-store.js';

export interface RunRecoveryDeps {
  journal: Pick<ReportJournal, 'ids' | 'usage'>;
  runs: Pick<RunStore, 'get' | 'events'>;
  reporter: RunReporter;
  /** Marks the runs a previous process left queued or running as interrupted (AgentSupervisor). */
  interruptLeftRuns: () => RunRecord[];
  logger: AgentsLogger;
}

/**
 * What a previous process left behind when it died (kill -9, power cut): reports it had not yet put
 * into the spool, and runs it left queued or running. Run once at start, before any trigger, in this
 * order: the unsent reports first (they are older), then the interrupted runs.
 */
export class RunRecovery {
  constructor(private readonly deps: RunRecoveryDeps) {}

  run(): void {
    this.replayUnsentReports();
    this.interruptLeftRuns();
  }

  /** Reports the previous process had not yet put into the spool when it died go now. */
  replayUnsentReports(): void {
    const { journal, runs, reporter, logger } = this.deps;
    const unsent = { runs: journal.ids('run'), events: journal.ids('events'), usage: journal.usage() };
    for (const runId of unsent.runs) {
      const record = runs.get(runId);
      if (record) reporter.run(record);
    }
    for (const runId of unsent.events) for (const event of runs.events(runId)) reporter.event(event);
    for (const record of unsent.usage) reporter.usage(record);
    if (unsent.runs.length + unsent.events.length + unsent.usage.length > 0)
      logger.log('reports not spooled before the last stop sent again', {
        runs: unsent.runs.length,
        runEvents: unsent.events.length,
        usage: unsent.usage.length,
      });
  }

  /** Runs left queued or running are marked interrupted and reported with all their events again. */
  interruptLeftRuns(): void {
    const { runs, reporter, logger } = this.deps;
    const recovered = this.deps.interruptLeftRuns();
    for (const record of recovered) {
      // Steps spooled just before a crash may not have made it: sent again, the cloud keeps each (run, index) once.
      for (const event of runs.events(record.id)) reporter.event(event);
    }
    if (recovered.length > 0)
      logger.log('runs left running by the previous process marked interrupted', {
        runs: recovered.map((r) => r.id),
      });
  }
}

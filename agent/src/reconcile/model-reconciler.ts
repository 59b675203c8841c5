import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  parseJobDocument,
  verifyManifestSignature,
  type AutomaticRollback,
  type BuildEngineParameters,
  type DesiredModel,
  type DesiredStateMessage,
  type JobExecution,
  type JobStatusDetails,
  type ModelManifest,
} from '@emofleet/protocol';
import { type InboundHandler } from '../connection';
import { type DetectorAdapter } from '../detector';
import { type Logger } from '../logger';
import { type InstalledModel, type SlotPointer, type SlotStore } from '../slots';
import { ArtifactDownloadError, downloadArtifact } from './artifact-download';
import { freeDiskBytes } from './free-disk-space';
import { evaluateEvalSet } from './eval-set';
import { runHealthCheck, type HealthCheckOptions } from './health-check';
import {
  JobEndedByControlPlane,
  JobExecutionReporter,
  JobReportingStopped,
  type JobChannel,
} from './job-execution-reporter';
import { unpackModelBundle } from './model-bundle';
import { type ModelLoader } from './model-loader';
import { SerialProgressReports } from './serial-progress-reports';

export interface ReconcileChannel extends JobChannel {
  /** Messages from the broker that failed validation; a rejected desired state is reported to its job. */
  onRejection?(listener: (rejection: { kind?: string; reason: string; detail: string }) => void): () => void;
  onMessage(kind: 'desired', handler: InboundHandler<'desired'>): () => void;
  onMessage(kind: 'job-notify-next', handler: InboundHandler<'job-notify-next'>): () => void;
  onMessage(kind: 'job-update-response', handler: InboundHandler<'job-update-response'>): () => void;
}

export interface ModelReconcilerOptions {
  readonly deviceId: string;
  readonly deviceSecret: string;
  /** Downloads go to `<dataDir>/downloads`. */
  readonly dataDir: string;
  readonly slots: SlotStore;
  readonly channel: ReconcileChannel;
  readonly loader: ModelLoader;
  /** PEM ed25519 public key pinned at enrolment; null (not enrolled) refuses every model. */
  readonly manifestPublicKey: string | null;
  readonly caCertificate?: string | null;
  readonly healthCheck: HealthCheckOptions;
  /** Starts of the agent with an unproven new model before it is rolled back (default 3). */
  readonly maxStartsOnProbation?: number;
  /** How long a new model must run before it counts as good (default 10 min). */
  readonly probationMs?: number;
  /** Called whenever the running detector changes (undefined: no model). */
  readonly onModelChanged: (detector: DetectorAdapter | undefined, model: InstalledModel | null) => void;
  /** Unpacks a verified bundle into an empty slot directory (default `unpackModelBundle`). */
  readonly unpackBundle?: (archive: string, directory: string) => unknown;
  /** Runs `build-engine` jobs (src/engine-builder); absent: such jobs are REJECTED. */
  readonly engineBuilder?: {
    build(parameters: BuildEngineParameters, reporter: Pick<JobExecutionReporter, 'report'>): Promise<void>;
  };
  readonly logger: Logger;
  readonly now?: () => number;
}

/** A failure to report: `step` is where it happened. */
class InstallFailure extends Error {
  constructor(
    readonly step: NonNullable<JobStatusDetails['step']>,
    reason: string,
    /** Whether the same desired state should not be tried again (bad signature, wrong digest, bad bundle …). */
    readonly permanent: boolean,
    readonly measured: Pick<JobStatusDetails, 'measuredFps' | 'measuredAccuracy' | 'measuredMap50'> = {},
  ) {
    super(reason);
  }
}

type Reporter = Pick<JobExecutionReporter, 'report'>;

/** A desired state queued or being applied; a job asking for it attaches its reporter. */
interface PendingApply {
  readonly desiredVersion: number;
  reporter: JobExecutionReporter | undefined;
  finished: boolean;
}

/**
 * Reconciles the running model with the retained desired state (docs/protocol.md): verify the signed manifest,
 * download with resume, check size and sha256, refuse when the disk is too full, unpack into the inactive A/B
 * slot, load, health-check, then switch the `current` pointer atomically and keep the previous slot for rollback.
 * Runs jobs (`apply-desired-state`, `rollback`, `evaluate`; `build-engine` through the engine builder), reporting
 * each step. One operation at a time.
 */
export class ModelReconciler {
  private detector: DetectorAdapter | undefined;
  private pointer: SlotPointer;
  private work: Promise<void> = Promise.resolve();
  private latestDesired: DesiredStateMessage | undefined;
  private pendingApply: PendingApply | undefined;
  /** Why the last desired state from the broker was rejected (schema, size, JSON), for the job waiting for it. */
  private lastDesiredRejection: { at: number; reason: string } | undefined;
  private readonly jobsSeen = new Set<string>();
  /** Reporters of jobs being worked on, closed when the reconciler stops. */
  private readonly openReporters = new Set<JobExecutionReporter>();
  private readonly unsubscribers: (() => void)[] = [];
  private probationTimer: NodeJS.Timeout | undefined;
  private lastAccuracy: number | null = null;
  private lastMap50: number | null = null;
  private stopped = false;

  constructor(private readonly options: ModelReconcilerOptions) {
    this.pointer = options.slots.readPointer();
  }

  get runningModel(): InstalledModel | null {
    return this.detector === undefined ? null : this.pointer.current;
  }

  get accuracy(): number | null {
    return this.lastAccuracy;
  }

  /** mAP@0.5 of the running model on its eval set (last health check or evaluate job), or null. */
  get map50(): number | null {
    return this.lastMap50;
  }

  /** The last automatic (crash-loop) rollback, for the birth; null when there was none. */
  get lastRollback(): AutomaticRollback | null {
    return this.pointer.lastRollback;
  }

  get currentDetector(): DetectorAdapter | undefined {
    return this.detector;
  }

  /** Waits for queued work (tests). */
  idle(): Promise<void> {
    return this.work;
  }

  /**
   * Loads the last good model (rolling back first when the new one kept killing the agent), then follows the
   * desired state and jobs.
   */
  async start(): Promise<void> {
    await this.loadAtStart();
    const { channel } = this.options;
    const unsubscribeRejections = channel.onRejection?.((rejection) => {
      if (rejection.kind !== 'desired') return;
      this.lastDesiredRejection = { at: Date.now(), reason: `${rejection.reason}: ${rejection.detail}` };
      this.options.logger.warn('rejected a desired state; the running model keeps running', {
        reason: rejection.reason,
        detail: rejection.detail,
      });
    });
    if (unsubscribeRejections !== undefined) this.unsubscribers.push(unsubscribeRejections);
    this.unsubscribers.push(
      channel.onMessage('desired', ({ message }) => this.onDesired(message)),
      channel.onMessage('job-notify-next', ({ message }) => {
        if (message.execution !== null) this.onJob(message.execution);
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    // A final status still waiting for its answer would keep the work going: it is sent again after a restart.
    for (const reporter of this.openReporters) reporter.close();
    if (this.probationTimer !== undefined) clearTimeout(this.probationTimer);
    await this.work;
    await this.detector?.close();
    this.detector = undefined;
  }

  private enqueue(task: () => Promise<void>): void {
    this.work = this.work
      .then(task)
      .catch((error: unknown) => this.options.logger.error('reconcile task failed', { error }));
  }

  private onDesired(desired: DesiredStateMessage): void {
    if (this.latestDesired !== undefined && desired.desiredVersion <= this.latestDesired.desiredVersion)
      return;
    this.latestDesired = desired;
    const apply: PendingApply = {
      desiredVersion: desired.desiredVersion,
      reporter: undefined,
      finished: false,
    };
    this.pendingApply = apply;
    // Reports go to the job that asks for this desired state, if one arrives before or during the work.
    let jobGotFinalStatus = false;
    const reporter: Reporter = {
      report: async (status, details) => {
        const job = apply.reporter;
        if (job === undefined) return;
        await job.report(status, details);
        if (status !== 'IN_PROGRESS') jobGotFinalStatus = true;
      },
    };
    this.enqueue(async () => {
      try {
        await this.applyDesired(desired, reporter);
        // A job that attached but got no final status (the desired state needed no work, e.g. it was already
        // handled before a restart, or the job attached after the last report) is answered on its own.
        if (apply.reporter !== undefined && !jobGotFinalStatus)
          await this.applyDesired(desired, apply.reporter, true);
      } catch (error) {
        if (!(error instanceof JobReportingStopped)) throw error;
      } finally {
        apply.finished = true;
        apply.reporter?.close();
        if (apply.reporter !== undefined) this.openReporters.delete(apply.reporter);
      }
    });
  }

  private onJob(execution: JobExecution): void {
    if (this.jobsSeen.has(execution.jobId)) return;
    this.jobsSeen.add(execution.jobId);
    const reporter = new JobExecutionReporter(
      this.options.channel,
      this.options.deviceId,
      execution,
      this.options.logger,
    );
    this.openReporters.add(reporter);
    const parsed = parseJobDocument(execution.document);
    const apply = this.pendingApply;
    if (
      parsed.ok &&
      parsed.document.operation === 'apply-desired-state' &&
      apply !== undefined &&
      !apply.finished &&
      apply.reporter === undefined &&
      apply.desiredVersion >= parsed.document.parameters.desiredVersion
    ) {
      apply.reporter = reporter;
      return;
    }
    this.enqueue(async () => {
      try {
        await this.runJob(execution, reporter);
      } catch (error) {
        if (error instanceof JobReportingStopped) return;
        if (!(error instanceof JobEndedByControlPlane)) throw error;
        this.options.logger.info('job ended by the control plane', {
          jobId: execution.jobId,
          reason: error.message,
        });
      } finally {
        reporter.close();
        this.openReporters.delete(reporter);
      }
    });
  }

  private async runJob(execution: JobExecution, reporter: JobExecutionReporter): Promise<void> {
    const parsed = parseJobDocument(execution.document);
    if (!parsed.ok) {
      await reporter.report('REJECTED', { reason: `${parsed.reason}: ${parsed.detail}` });
      return;
    }
    const document = parsed.document;
    switch (document.operation) {
      case 'apply-desired-state': {
        const wanted = document.parameters.desiredVersion;
        const waitStarted = Date.now();
        const desired = await this.waitForDesired(wanted, waitStarted);
        if (desired === undefined) {
          const rejection = this.lastDesiredRejection;
          const why =
            rejection !== undefined && rejection.at >= waitStarted - 60_000
              ? `the desired state was rejected: ${rejection.reason}`
              : 'none arrived';
          await reporter.report('REJECTED', {
            reason: `no valid desired state with desiredVersion >= ${wanted}: ${why}`.slice(0, 1024),
          });
          return;
        }
        await this.applyDesired(desired, reporter, true);
        return;
      }
      case 'rollback':
        await this.rollback(
          reporter,
          document.parameters.reason ?? 'rollback requested by the control plane',
        );
        return;
      case 'evaluate': {
        const current = this.pointer.current;
        if (this.detector === undefined || current === null) {
          await reporter.report('FAILED', { reason: 'no model is running' });
          return;
        }
        if (document.parameters.modelId !== undefined && document.parameters.modelId !== current.modelId) {
          await reporter.report('REJECTED', {
            reason: `model ${document.parameters.modelId} is not the running model (${current.modelId})`,
          });
          return;
        }
        const evaluation = await evaluateEvalSet(
          this.detector,
          this.options.slots.slotDirectory(current.slot),
          this.options.healthCheck,
        );
        if (evaluation === null) {
          await reporter.report('FAILED', {
            modelId: current.modelId,
            reason: 'the running model has no eval set',
          });
          return;
        }
        this.lastAccuracy = evaluation.accuracy;
        this.lastMap50 = evaluation.map50;
        await reporter.report('SUCCEEDED', {
          step: 'RUNNING',
          modelId: current.modelId,
          measuredAccuracy: evaluation.accuracy,
          measuredMap50: evaluation.map50,
        });
        return;
      }
      case 'build-engine':
        if (this.options.engineBuilder === undefined) {
          await reporter.report('REJECTED', { reason: 'this agent does not build engines' });
          return;
        }
        await this.options.engineBuilder.build(document.parameters, reporter);
        return;
    }
  }

  /**
   * The desired state a job asks for; undefined when none arrives within `timeoutMs`, or at once when a desired
   * state was rejected within the minute before `since` or after it (a malformed desired state will not heal).
   */
  private async waitForDesired(
    minimumVersion: number,
    since: number,
    timeoutMs = 30_000,
  ): Promise<DesiredStateMessage | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.stopped) {
      const desired = this.latestDesired;
      if (desired !== undefined && desired.desiredVersion >= minimumVersion) return desired;
      if ((this.lastDesiredRejection?.at ?? 0) >= since - 60_000) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  }

  private async applyDesired(
    desired: DesiredStateMessage,
    reporter: Reporter,
    forJob = false,
  ): Promise<void> {
    const handled = this.pointer.handledDesiredVersion;
    const current = this.pointer.current;
    const model = desired.model;
    if (model === null) {
      if (current !== null || this.detector !== undefined) await this.switchTo(null, desired.desiredVersion);
      else this.savePointer({ ...this.pointer, handledDesiredVersion: desired.desiredVersion });
      await reporter.report('SUCCEEDED', { step: 'RUNNING', reason: 'desired state: run no model' });
      return;
    }
    if (current !== null && current.sha256 === model.sha256 && this.detector !== undefined) {
      this.savePointer({
        ...this.pointer,
        handledDesiredVersion: Math.max(handled ?? 0, desired.desiredVersion),
      });
      await reporter.report('SUCCEEDED', {
        step: 'RUNNING',
        modelId: current.modelId,
        ...(current.measuredFps === null ? {} : { measuredFps: current.measuredFps }),
        ...(current.measuredAccuracy === null ? {} : { measuredAccuracy: current.measuredAccuracy }),
        ...(current.measuredMap50 === null ? {} : { measuredMap50: current.measuredMap50 }),
      });
      return;
    }
    if (!forJob && handled !== null && desired.desiredVersion <= handled) return;
    const rolledBack = this.pointer.lastRollback;
    if (rolledBack !== null && rolledBack.desiredVersion === desired.desiredVersion) {
      // The job of a desired state whose model crash-looped (e.g. still open because the agent died before its
      // SUCCEEDED was accepted): report the rollback rather than install the same model again.
      await reporter.report('FAILED', {
        step: 'ROLLED_BACK',
        modelId: rolledBack.model.modelId,
        reason: rolledBack.reason,
      });
      return;
    }
    try {
      await this.install(desired, model, reporter);
    } catch (error) {
      const failure =
        error instanceof InstallFailure
          ? error
          : new InstallFailure('INSTALLING', error instanceof Error ? error.message : String(error), false);
      if (error instanceof JobEndedByControlPlane || error instanceof JobReportingStopped) throw error;
      this.options.logger.warn('model installation failed; the running model keeps running', {
        modelId: model.modelId,
        step: failure.step,
        reason: failure.message,
      });
      if (failure.permanent)
        this.savePointer({ ...this.pointer, handledDesiredVersion: desired.desiredVersion });
      await reporter.report('FAILED', {
        step: failure.step,
        modelId: model.modelId,
        reason: failure.message.slice(0, 1024),
        ...failure.measured,
      });
    }
  }

  private async install(
    desired: DesiredStateMessage,
    model: DesiredModel,
    reporter: Reporter,
  ): Promise<void> {
    const { logger, slots } = this.options;
    const manifest: ModelManifest = {
      modelId: model.modelId,
      version: model.version,
      format: model.format,
      sha256: model.sha256,
      sizeBytes: model.sizeBytes,
    };
    if (this.options.manifestPublicKey === null) {
      throw new InstallFailure(
        'VERIFYING',
        'no manifest public key is pinned: enrol the device first',
        false,
      );
    }
    if (!verifyManifestSignature(manifest, model.signature, this.options.manifestPublicKey)) {
      throw new InstallFailure(
        'VERIFYING',
        'the manifest signature does not verify with the public key pinned at enrolment',
        true,
      );
    }
    const downloads = path.join(this.options.dataDir, 'downloads');
    fs.mkdirSync(downloads, { recursive: true, mode: 0o700 });
    const partFile = path.join(downloads, `${model.sha256}.part`);
    const alreadyDownloaded = fs.existsSync(partFile) ? fs.statSync(partFile).size : 0;
    const needed = model.sizeBytes - alreadyDownloaded + model.sizeBytes + 16 * 1024 * 1024;
    const free = await freeDiskBytes(downloads);
    if (free < needed) {
      throw new InstallFailure(
        'DOWNLOADING',
        `needs ${needed} bytes free for download and unpacking, ${free} available`,
        false,
      );
    }
    await reporter.report('IN_PROGRESS', {
      step: 'DOWNLOADING',
      modelId: model.modelId,
      progress: { bytesDone: alreadyDownloaded, bytesTotal: model.sizeBytes },
    });
    let lastReportedQuarter = Math.floor((alreadyDownloaded * 4) / model.sizeBytes);
    const progressReports = new SerialProgressReports((progress: { bytesDone: number; bytesTotal: number }) =>
      reporter.report('IN_PROGRESS', { step: 'DOWNLOADING', modelId: model.modelId, progress }),
    );
    try {
      await downloadArtifact({
        url: model.artifactUrl,
        partFile,
        expectedSizeBytes: model.sizeBytes,
        expectedSha256: model.sha256,
        credentials: { username: this.options.deviceId, password: this.options.deviceSecret },
        caCertificate: this.options.caCertificate,
        onProgress: (bytesDone, bytesTotal) => {
          const quarter = Math.floor((bytesDone * 4) / bytesTotal);
          if (quarter > lastReportedQuarter && quarter < 4) {
            lastReportedQuarter = quarter;
            progressReports.offer({ bytesDone, bytesTotal });
          }
        },
        onRetry: (reason, delayMs) =>
          logger.warn('model download failed; trying again', { modelId: model.modelId, reason, delayMs }),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const permanent = error instanceof ArtifactDownloadError && !error.retriable;
      throw new InstallFailure(
        /mismatch/.test(reason) ? 'VERIFYING' : 'DOWNLOADING',
        `download: ${reason}`,
        permanent,
      );
    } finally {
      await progressReports.settled();
    }
    await reporter.report('IN_PROGRESS', {
      step: 'VERIFYING',
      modelId: model.modelId,
      reason: 'signature, size and sha256 verified',
    });

    await reporter.report('IN_PROGRESS', { step: 'INSTALLING', modelId: model.modelId });
    const slot = slots.inactiveSlot();
    if (this.pointer.previous?.slot === slot) this.savePointer({ ...this.pointer, previous: null });
    const directory = slots.clearSlot(slot);
    try {
      (this.options.unpackBundle ?? unpackModelBundle)(partFile, directory);
    } catch (error) {
      fs.rmSync(partFile, { force: true });
      throw new InstallFailure(
        'INSTALLING',
        `bundle: ${error instanceof Error ? error.message : String(error)}`,
        true,
      );
    }
    slots.markInstalled(slot, model.sha256);
    fs.rmSync(partFile, { force: true });

    await reporter.report('IN_PROGRESS', { step: 'HEALTH_CHECK', modelId: model.modelId });
    // Loading and running a new network is where a native crash can kill the agent: the attempt is recorded
    // first, so that starts after such deaths are counted (loadAtStart) and a model that keeps killing the agent
    // here is given up instead of being retried forever.
    const previousAttempt = this.pointer.installAttempt;
    this.savePointer({
      ...this.pointer,
      installAttempt: {
        desiredVersion: desired.desiredVersion,
        modelId: model.modelId,
        version: model.version,
        sha256: model.sha256,
        deaths:
          previousAttempt?.sha256 === model.sha256 &&
          previousAttempt.desiredVersion === desired.desiredVersion
            ? previousAttempt.deaths
            : 0,
      },
    });
    let candidate: DetectorAdapter;
    let result: Awaited<ReturnType<typeof runHealthCheck>>;
    try {
      try {
        candidate = await this.options.loader(directory, manifest);
      } catch (error) {
        throw new InstallFailure(
          'HEALTH_CHECK',
          `cannot load the model: ${error instanceof Error ? error.message : String(error)}`,
          true,
        );
      }
      const loaded = candidate;
      const spec = desired.healthCheck ?? { warmupFrames: 1, measureFrames: 1, minFps: 0, minAccuracy: null };
      result = await runHealthCheck(loaded, directory, spec, this.options.healthCheck).catch(
        async (error: unknown) => {
          await loaded.close();
          throw new InstallFailure(
            'HEALTH_CHECK',
            `health check crashed: ${error instanceof Error ? error.message : String(error)}`,
            true,
          );
        },
      );
    } finally {
      this.savePointer({ ...this.pointer, installAttempt: null });
    }
    const measured = {
      measuredFps: result.measuredFps,
      ...(result.measuredAccuracy === null ? {} : { measuredAccuracy: result.measuredAccuracy }),
      ...(result.measuredMap50 === null ? {} : { measuredMap50: result.measuredMap50 }),
    };
    if (!result.passed) {
      await candidate.close();
      logger.warn('health check failed; staying on the running model', {
        modelId: model.modelId,
        reason: result.reason,
      });
      throw new InstallFailure(
        'ROLLED_BACK',
        `health check failed: ${result.reason ?? 'unknown'}; kept ${this.pointer.current?.modelId ?? 'no model'}`,
        true,
        measured,
      );
    }
    const installed: InstalledModel = {
      ...manifest,
      slot,
      desiredVersion: desired.desiredVersion,
      installedAt: (this.options.now ?? Date.now)(),
      measuredFps: result.measuredFps,
      measuredAccuracy: result.measuredAccuracy,
      measuredMap50: result.measuredMap50,
    };
    await this.switchTo({ installed, detector: candidate }, desired.desiredVersion);
    this.lastAccuracy = result.measuredAccuracy;
    this.lastMap50 = result.measuredMap50;
    await reporter.report('SUCCEEDED', { step: 'RUNNING', modelId: model.modelId, ...measured });
  }

  /** Makes `next` the running model and records it atomically; the old one becomes `previous`. */
  private async switchTo(
    next: { installed: InstalledModel; detector: DetectorAdapter } | null,
    desiredVersion: number,
  ): Promise<void> {
    const old = this.detector;
    const now = (this.options.now ?? Date.now)();
    this.savePointer({
      ...this.pointer,
      current: next?.installed ?? null,
      previous: this.pointer.current ?? this.pointer.previous,
      probation: next === null ? null : { starts: 0, since: now },
      handledDesiredVersion: desiredVersion,
    });
    this.detector = next?.detector;
    this.options.onModelChanged(this.detector, next?.installed ?? null);
    this.scheduleProbationEnd();
    await old?.close();
    this.options.logger.info('switched model', {
      modelId: next?.installed.modelId ?? null,
      slot: next?.installed.slot ?? null,
    });
  }

  private async rollback(reporter: Reporter, reason: string): Promise<void> {
    const previous = this.pointer.previous;
    if (previous === null || !this.options.slots.isInstalled(previous)) {
      await reporter.report('REJECTED', { reason: 'no previous model is installed to roll back to' });
      return;
    }
    let detector: DetectorAdapter;
    try {
      detector = await this.options.loader(this.options.slots.slotDirectory(previous.slot), previous);
    } catch (error) {
      await reporter.report('FAILED', {
        step: 'ROLLED_BACK',
        modelId: previous.modelId,
        reason: `cannot load the previous model: ${String(error)}`,
      });
      return;
    }
    const old = this.detector;
    this.savePointer({ ...this.pointer, current: previous, previous: this.pointer.current, probation: null });
    this.detector = detector;
    this.lastAccuracy = previous.measuredAccuracy;
    this.lastMap50 = previous.measuredMap50;
    this.options.onModelChanged(detector, previous);
    await old?.close();
    this.options.logger.warn('rolled back', { modelId: previous.modelId, reason });
    await reporter.report('SUCCEEDED', { step: 'ROLLED_BACK', modelId: previous.modelId, reason });
  }

  private async loadAtStart(): Promise<void> {
    const maxStarts = this.options.maxStartsOnProbation ?? 3;
    let pointer = this.pointer;
    const attempt = pointer.installAttempt;
    if (attempt !== null) {
      // The agent died while loading or health-checking a new model (the running one was never switched).
      const deaths = attempt.deaths + 1;
      if (deaths >= maxStarts) {
        const kept = pointer.current;
        const reason =
          `crash loop: the agent died ${deaths} times while loading or health-checking ${attempt.modelId} ` +
          `${attempt.version}; kept ${kept === null ? 'no model' : `${kept.modelId} ${kept.version}`}`;
        this.options.logger.error('the new model keeps killing the agent before the switch; giving it up', {
          modelId: attempt.modelId,
          deaths,
        });
        pointer = {
          ...pointer,
          installAttempt: null,
          handledDesiredVersion: Math.max(pointer.handledDesiredVersion ?? 0, attempt.desiredVersion),
          lastRollback: {
            at: (this.options.now ?? Date.now)(),
            model: { modelId: attempt.modelId, version: attempt.version },
            desiredVersion: attempt.desiredVersion,
            restoredModel: kept === null ? null : { modelId: kept.modelId, version: kept.version },
            reason,
          },
        };
      } else {
        pointer = { ...pointer, installAttempt: { ...attempt, deaths } };
      }
      this.savePointer(pointer);
    }
    if (pointer.probation !== null) {
      // Each start restarts the probation clock: the model must run `probationMs` in one go to be trusted.
      const now = (this.options.now ?? Date.now)();
      const starts = pointer.probation.starts + 1;
      pointer = { ...pointer, probation: { starts, since: now } };
      const failed = pointer.current;
      const previous = pointer.previous;
      if (
        starts > maxStarts &&
        failed !== null &&
        previous !== null &&
        this.options.slots.isInstalled(previous)
      ) {
        const reason =
          `crash loop: the agent started ${starts} times with ${failed.modelId} ${failed.version} before it ` +
          `ran ${Math.round((this.options.probationMs ?? 600_000) / 1000)} s in one go; rolled back to ` +
          `${previous.modelId} ${previous.version}`;
        this.options.logger.error('the new model did not survive its probation; rolling back', {
          modelId: failed.modelId,
          starts,
          previous: previous.modelId,
        });
        pointer = {
          ...pointer,
          current: previous,
          previous: failed,
          probation: null,
          lastRollback: {
            at: now,
            model: { modelId: failed.modelId, version: failed.version },
            desiredVersion: failed.desiredVersion,
            restoredModel: { modelId: previous.modelId, version: previous.version },
            reason,
          },
        };
      }
      this.savePointer(pointer);
    }
    const current = pointer.current;
    if (current === null) return;
    if (!this.options.slots.isInstalled(current)) {
      this.options.logger.error('the current slot is incomplete; running no model', {
        slot: current.slot,
        modelId: current.modelId,
      });
      this.savePointer({ ...pointer, current: null, handledDesiredVersion: null });
      return;
    }
    try {
      this.detector = await this.options.loader(this.options.slots.slotDirectory(current.slot), current);
      this.lastAccuracy = current.measuredAccuracy;
      this.lastMap50 = current.measuredMap50;
      this.options.onModelChanged(this.detector, current);
      this.scheduleProbationEnd();
    } catch (error) {
      this.options.logger.error('cannot load the current model', { modelId: current.modelId, error });
    }
  }

  private scheduleProbationEnd(): void {
    if (this.probationTimer !== undefined) clearTimeout(this.probationTimer);
    const probation = this.pointer.probation;
    if (probation === null) return;
    const remaining = Math.max(
      0,
      probation.since + (this.options.probationMs ?? 600_000) - (this.options.now ?? Date.now)(),
    );
    this.probationTimer = setTimeout(() => {
      this.savePointer({ ...this.pointer, probation: null });
      this.options.logger.info('the running model passed its probation', {
        modelId: this.pointer.current?.modelId,
      });
    }, remaining);
    this.probationTimer.unref();
  }

  private savePointer(pointer: SlotPointer): void {
    this.options.slots.writePointer(pointer);
    this.pointer = pointer;
  }
}

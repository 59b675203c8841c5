import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  trtexecFlagValue,
  verifyEngineBuildSignature,
  type BuildEngineParameters,
  type BuiltEngine,
  type DeviceCapabilities,
  type EngineTarget,
  type JobStatusDetails,
} from '@emofleet/protocol';
import { type Logger } from '../logger';
import { downloadArtifact, sha256OfFile } from '../reconcile/artifact-download';
import { type JobExecutionReporter } from '../reconcile/job-execution-reporter';
import { SerialProgressReports } from '../reconcile/serial-progress-reports';
import { runBuilderCommand } from './builder-command';
import { uploadEngineWithRetries } from './engine-upload';
import { logTail, parseTrtexecTiming, parseTrtexecVersion } from './trtexec-output';

export interface EngineBuilderOptions {
  readonly deviceId: string;
  readonly deviceSecret: string;
  /** Builds run in `<dataDir>/engine-builds/<cacheKey>/`, removed afterwards. */
  readonly dataDir: string;
  /** The builder command (trtexec, or a stand-in for tests), or null: this device builds no engines. */
  readonly command: string | null;
  /** What the device advertises in its birth: the class (gpuArch, TensorRT, JetPack) jobs must match. */
  readonly capabilities: DeviceCapabilities;
  /** PEM ed25519 key pinned at enrolment; null (not enrolled) refuses every build. */
  readonly manifestPublicKey: string | null;
  readonly caCertificate?: string | null;
  /** The builder is killed after this long (default 2 h). */
  readonly buildTimeoutMs?: number;
  /** Waits between upload attempts while the control plane is unreachable (default 1, 2, 4, 8, 16 s). */
  readonly uploadRetryDelaysMs?: readonly number[];
  readonly logger: Logger;
}

type Reporter = Pick<JobExecutionReporter, 'report'>;

/** Bytes of the builder's output a job update carries (an update must stay within 8 KiB). */
const LOG_TAIL_BYTES = 3000;

/** The build failed; `logTail` is the end of the builder's output when it ran. */
class BuildFailure extends Error {
  constructor(
    reason: string,
    readonly logTail?: string,
  ) {
    super(reason);
  }
}

function majorMinor(version: string | undefined): string | undefined {
  const match = version === undefined ? null : /^(\d+)\.(\d+)/.exec(version);
  return match === null ? undefined : `${match[1]}.${match[2]}`;
}

/** Why this device is not of the job's class, or undefined when it is. */
export function deviceClassMismatch(
  capabilities: DeviceCapabilities,
  target: EngineTarget,
): string | undefined {
  const ours = `${capabilities.gpuArch ?? 'unknown GPU arch'}, TensorRT ${capabilities.tensorrtVersion ?? 'not installed'}`;
  const wanted = `${target.gpuArch}, TensorRT ${target.tensorrt}`;
  if (
    capabilities.gpuArch !== target.gpuArch ||
    majorMinor(capabilities.tensorrtVersion) !== target.tensorrt
  ) {
    return `this device is ${ours}; the job is for ${wanted}`;
  }
  if (target.jetpack !== undefined && capabilities.jetpackVersion !== target.jetpack) {
    return `this device runs JetPack ${capabilities.jetpackVersion ?? 'unknown'}; the job is for JetPack ${target.jetpack}`;
  }
  return undefined;
}

/** Control characters other than newline and tab cost 6 bytes each in JSON; terminals' colours are noise. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

function fileName(value: string | undefined): string {
  return (value ?? '').replace(/^\.\//, '');
}

/**
 * Runs `build-engine` jobs (docs/engines.md): verifies the signed order and that this device is of the job's
 * class, downloads the ONNX model (and, for int8, the calibration cache) with its device credentials (size and
 * sha256 checked), runs the builder
 * command with the planned trtexec arguments in a private directory, parses trtexec's performance summary,
 * uploads the engine (streamed, with its sha256) and reports SUCCEEDED with the engine and timing, or FAILED /
 * REJECTED with the reason and the tail of the builder's output.
 */
export class EngineBuilder {
  constructor(private readonly options: EngineBuilderOptions) {}

  async build(parameters: BuildEngineParameters, reporter: Reporter): Promise<void> {
    const refusal = this.refusal(parameters);
    if (refusal !== undefined) {
      this.options.logger.warn('refused an engine build', { cacheKey: parameters.cacheKey, reason: refusal });
      await reporter.report('REJECTED', { reason: refusal.slice(0, 1024) });
      return;
    }
    const directory = path.join(this.options.dataDir, 'engine-builds', parameters.cacheKey);
    fs.rmSync(directory, { recursive: true, force: true });
    fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
    try {
      const engine = await this.buildIn(directory, parameters, reporter);
      await reporter.report('SUCCEEDED', {
        engine: engine.built,
        ...(engine.logTail.length > 0 ? { logTail: engine.logTail } : {}),
      });
    } catch (error) {
      if (!(error instanceof BuildFailure)) throw error;
      this.options.logger.warn('engine build failed', {
        cacheKey: parameters.cacheKey,
        reason: error.message,
      });
      const details: JobStatusDetails = { reason: error.message.slice(0, 1024) };
      if (error.logTail !== undefined && error.logTail.length > 0) details.logTail = error.logTail;
      await reporter.report('FAILED', details);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  }

  /** Why the job is refused before any work, or undefined. */
  private refusal(parameters: BuildEngineParameters): string | undefined {
    const { command, manifestPublicKey, capabilities } = this.options;
    if (command === null) {
      return 'this device has no engine builder (trtexec not found; set --engine-builder)';
    }
    if (manifestPublicKey === null) return 'no manifest public key is pinned: enrol the device first';
    if (!verifyEngineBuildSignature(parameters, parameters.signature, manifestPublicKey)) {
      return 'the build order signature does not verify with the public key pinned at enrolment';
    }
    return deviceClassMismatch(capabilities, parameters.target);
  }

  private async buildIn(
    directory: string,
    parameters: BuildEngineParameters,
    reporter: Reporter,
  ): Promise<{ built: BuiltEngine; logTail: string }> {
    const { trtexecArgs } = parameters;
    const modelFile = path.join(directory, fileName(trtexecFlagValue(trtexecArgs, '--onnx')));
    const engineFile = path.join(directory, fileName(trtexecFlagValue(trtexecArgs, '--saveEngine')));
    await this.download(parameters, `${modelFile}.part`, reporter);
    fs.renameSync(`${modelFile}.part`, modelFile);
    const { calibrationCache } = parameters;
    if (calibrationCache !== undefined) {
      // int8: the cache goes beside the model under the `--calib` name (which names its sha256; signed).
      const cacheFile = path.join(directory, fileName(trtexecFlagValue(trtexecArgs, '--calib')));
      await this.downloadCalibrationCache(calibrationCache, `${cacheFile}.part`);
      fs.renameSync(`${cacheFile}.part`, cacheFile);
    }
    await reporter.report('IN_PROGRESS', {
      step: 'VERIFYING',
      reason:
        calibrationCache === undefined
          ? 'build order signature, model size and sha256 verified'
          : 'build order signature, model and calibration cache size and sha256 verified',
    });

    await reporter.report('IN_PROGRESS', { buildStage: 'BUILDING' });
    const command = this.options.command ?? '';
    this.options.logger.info('building an engine', { cacheKey: parameters.cacheKey, command, trtexecArgs });
    let run;
    try {
      run = await runBuilderCommand({
        command,
        args: trtexecArgs,
        cwd: directory,
        timeoutMs: this.options.buildTimeoutMs ?? 2 * 3_600_000,
      });
    } catch (error) {
      throw new BuildFailure(`cannot start ${command}: ${(error as Error).message}`);
    }
    const tail = logTail(printable(run.output), LOG_TAIL_BYTES);
    if (run.timedOut) {
      throw new BuildFailure(`${path.basename(command)} did not finish within ${run.durationMs} ms`, tail);
    }
    if (run.exitCode !== 0) {
      const how =
        run.signal !== null ? `was killed by ${run.signal}` : `exited with code ${run.exitCode ?? '?'}`;
      throw new BuildFailure(`${path.basename(command)} ${how}`, tail);
    }
    const tensorrtVersion = parseTrtexecVersion(run.output);
    if (tensorrtVersion !== undefined && majorMinor(tensorrtVersion) !== parameters.target.tensorrt) {
      throw new BuildFailure(
        `the builder ran TensorRT ${tensorrtVersion}; the job is for TensorRT ${parameters.target.tensorrt}`,
        tail,
      );
    }
    const sizeBytes = fs.existsSync(engineFile) ? fs.statSync(engineFile).size : 0;
    if (sizeBytes === 0) {
      throw new BuildFailure(
        `${path.basename(command)} succeeded but wrote no engine at ${path.basename(engineFile)}`,
        tail,
      );
    }
    const sha256 = await sha256OfFile(engineFile);
    await reporter.report('IN_PROGRESS', { buildStage: 'UPLOADING' });
    try {
      await uploadEngineWithRetries(
        {
          url: parameters.uploadUrl,
          file: engineFile,
          sha256,
          sizeBytes,
          credentials: { username: this.options.deviceId, password: this.options.deviceSecret },
          caCertificate: this.options.caCertificate,
        },
        this.options.uploadRetryDelaysMs ?? [1000, 2000, 4000, 8000, 16_000],
        (error, delayMs) =>
          this.options.logger.warn('engine upload failed; trying again', { error, delayMs }),
      );
    } catch (error) {
      throw new BuildFailure(`upload: ${(error as Error).message}`, tail);
    }
    return {
      built: {
        sha256,
        sizeBytes,
        buildMs: run.durationMs,
        ...(tensorrtVersion === undefined ? {} : { tensorrtVersion }),
        timing: parseTrtexecTiming(run.output),
      },
      logTail: tail,
    };
  }

  /** The int8 calibration cache (a few KiB: no progress reports), size and sha256 checked. */
  private async downloadCalibrationCache(
    cache: NonNullable<BuildEngineParameters['calibrationCache']>,
    partFile: string,
  ): Promise<void> {
    await this.fetchChecked('the calibration cache', cache, partFile);
  }

  /** Downloads `file` with the device's credentials, checking its size and sha256; a failure names `what`. */
  private async fetchChecked(
    what: string,
    file: { url: string; sizeBytes: number; sha256: string },
    partFile: string,
    onProgress?: (bytesDone: number, bytesTotal: number) => void,
  ): Promise<void> {
    try {
      await downloadArtifact({
        url: file.url,
        partFile,
        expectedSizeBytes: file.sizeBytes,
        expectedSha256: file.sha256,
        credentials: { username: this.options.deviceId, password: this.options.deviceSecret },
        caCertificate: this.options.caCertificate,
        ...(onProgress ? { onProgress } : {}),
      });
    } catch (error) {
      throw new BuildFailure(`download of ${what}: ${(error as Error).message}`);
    }
  }

  private async download(
    parameters: BuildEngineParameters,
    partFile: string,
    reporter: Reporter,
  ): Promise<void> {
    const { source } = parameters;
    await reporter.report('IN_PROGRESS', {
      step: 'DOWNLOADING',
      progress: { bytesDone: 0, bytesTotal: source.sizeBytes },
    });
    const progress = new SerialProgressReports((update: { bytesDone: number; bytesTotal: number }) =>
      reporter.report('IN_PROGRESS', { step: 'DOWNLOADING', progress: update }),
    );
    let lastQuarter = 0;
    try {
      await this.fetchChecked('the ONNX model', source, partFile, (bytesDone, bytesTotal) => {
        const quarter = Math.floor((bytesDone * 4) / bytesTotal);
        if (quarter > lastQuarter && quarter < 4) {
          lastQuarter = quarter;
          progress.offer({ bytesDone, bytesTotal });
        }
      });
    } finally {
      await progress.settled();
    }
  }
}

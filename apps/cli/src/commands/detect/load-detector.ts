import { createDetector, DetectorError, type Detector } from '@emofleet/detector';
import { CliError } from '../../cli-error';
import { DetectExitCode } from './detect-exit-codes';

export interface ModelFiles {
  readonly cfg: string;
  readonly weights: string;
  readonly names?: string;
  readonly threads: number;
}

/** `cfg:12: message` (the detector's form) becomes `<cfg path>:12: message`. */
function cfgMessage(cfg: string, message: string): string {
  return message.startsWith('cfg:') ? `${cfg}:${message.slice('cfg:'.length)}` : message;
}

/** `weights: message` becomes `<weights path>: message`. */
function weightsMessage(weights: string, message: string): string {
  return message.startsWith('weights: ') ? `${weights}: ${message.slice('weights: '.length)}` : message;
}

/** The detector's error codes as one-line CLI errors naming the file at fault. */
function modelLoadError(error: DetectorError, files: ModelFiles): CliError {
  // The detector's own "cannot read <what> <path>: <reason>" (cfg, weights or names) already says it all.
  if (error.message.startsWith('cannot read ')) return new CliError(error.message, DetectExitCode.badModel);
  switch (error.code) {
    case 'EMOFLEET_BAD_CFG':
      return new CliError(`bad cfg: ${cfgMessage(files.cfg, error.message)}`, DetectExitCode.badModel);
    case 'EMOFLEET_BAD_WEIGHTS':
      return new CliError(
        `bad weights: ${weightsMessage(files.weights, error.message)}`,
        DetectExitCode.badModel,
      );
    case 'EMOFLEET_UNSUPPORTED':
      return new CliError(`${files.cfg}: ${error.message}`, DetectExitCode.badModel);
    case 'EMOFLEET_BAD_FRAME':
    case 'EMOFLEET_BAD_ARGUMENT':
    case 'EMOFLEET_DISPOSED':
    case 'EMOFLEET_NATIVE_MISSING':
    case 'EMOFLEET_INTERNAL':
      return new CliError(error.message);
  }
}

/** Loads cfg + weights (+ names) into the native detector, with errors that name the file at fault. */
export async function loadDetector(files: ModelFiles): Promise<Detector> {
  try {
    return await createDetector({
      cfg: files.cfg,
      weights: files.weights,
      names: files.names,
      threads: files.threads,
    });
  } catch (error) {
    throw error instanceof DetectorError ? modelLoadError(error, files) : error;
  }
}

/** Exit codes of `emofleet detect` (1 stays "anything else", including usage errors). */
export const DetectExitCode = {
  /** An input is missing, unreadable or cannot be decoded. */
  badInput: 2,
  /** The cfg, weights or names file cannot be loaded into the detector. */
  badModel: 3,
  /** ffmpeg / ffprobe are not installed. */
  decoderMissing: 4,
} as const;

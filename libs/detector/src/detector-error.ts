/** Codes every detector failure carries (also set by the native addon). */
export type DetectorErrorCode =
  | 'EMOFLEET_BAD_CFG'
  | 'EMOFLEET_BAD_WEIGHTS'
  | 'EMOFLEET_BAD_FRAME'
  | 'EMOFLEET_BAD_ARGUMENT'
  | 'EMOFLEET_UNSUPPORTED'
  | 'EMOFLEET_DISPOSED'
  | 'EMOFLEET_NATIVE_MISSING'
  | 'EMOFLEET_INTERNAL';

const KNOWN_CODES: ReadonlySet<string> = new Set<DetectorErrorCode>([
  'EMOFLEET_BAD_CFG',
  'EMOFLEET_BAD_WEIGHTS',
  'EMOFLEET_BAD_FRAME',
  'EMOFLEET_BAD_ARGUMENT',
  'EMOFLEET_UNSUPPORTED',
  'EMOFLEET_DISPOSED',
  'EMOFLEET_NATIVE_MISSING',
  'EMOFLEET_INTERNAL',
]);

export class DetectorError extends Error {
  constructor(
    readonly code: DetectorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DetectorError';
  }
}

function isDetectorErrorCode(code: unknown): code is DetectorErrorCode {
  return typeof code === 'string' && KNOWN_CODES.has(code);
}

/** Re-throws a native error (a plain Error with `code`) as a DetectorError with the same code and message. */
export function toDetectorError(error: unknown): DetectorError {
  if (error instanceof DetectorError) return error;
  // Not `instanceof Error`: errors from the addon may come from another realm (e.g. jest's VM context).
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { code, message } = error as { code?: unknown; message: unknown };
    return new DetectorError(isDetectorErrorCode(code) ? code : 'EMOFLEET_INTERNAL', String(message));
  }
  return new DetectorError('EMOFLEET_INTERNAL', String(error));
}

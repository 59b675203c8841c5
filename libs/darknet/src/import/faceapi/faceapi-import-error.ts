/** A face-api model directory or weights manifest that cannot be converted, reported as `file: why`. */
export class FaceapiImportError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'FaceapiImportError';
  }
}

/** An uploaded model file that cannot be accepted; `file` is the upload's field or file name. */
export class ModelValidationError extends Error {
  override name = 'ModelValidationError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

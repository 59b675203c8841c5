/** A `.weights` file that does not match its network (sizes are given in bytes). */
export class WeightsError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'WeightsError';
  }
}

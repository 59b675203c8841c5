/** A problem in a `.cfg` file, reported as `file:line: why`. */
export class CfgError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'CfgError';
  }
}

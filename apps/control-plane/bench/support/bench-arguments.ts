/** A numeric option: the field it sets and the values it takes. */
export interface NumberOptionRule<TKey extends string> {
  key: TKey;
  integer: boolean;
  min: number;
  max: number;
}

/** What a bench's command line takes: boolean flags, numbers in ranges, and options with their own parser. */
export interface BenchArgumentRules<TOptions> {
  /** `--json` → `json`: the option sets the field to true. */
  flags: Record<string, keyof TOptions>;
  numbers: Record<string, NumberOptionRule<keyof TOptions & string>>;
  /** Options whose value needs its own parsing; the parser throws `usageError` naming the option. */
  custom?: Record<string, (text: string, options: TOptions) => void>;
  /** The bench's usage error type, so the entry point prints the usage with the message. */
  usageError: new (message: string) => Error;
}

/**
 * Parses `--name value` and `--name=value` arguments over `defaults`; every bad argument throws the bench's usage
 * error naming the option and what it needs.
 */
export function parseBenchArguments<TOptions extends object>(
  argv: readonly string[],
  defaults: TOptions,
  rules: BenchArgumentRules<TOptions>,
): TOptions {
  const options = { ...defaults };
  const fail = (message: string): never => {
    throw new rules.usageError(message);
  };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] ?? '';
    const flag = rules.flags[argument];
    if (flag !== undefined) {
      (options as Record<keyof TOptions, unknown>)[flag] = true;
      continue;
    }
    const [name = '', inline] = argument.split(/=(.*)/s, 2);
    const rule = rules.numbers[name];
    const custom = rules.custom?.[name];
    if (rule === undefined && custom === undefined) fail(`unknown option ${JSON.stringify(argument)}`);
    const text = inline ?? argv[(index += 1)];
    if (text === undefined) return fail(`${name}: needs a value`);
    if (custom !== undefined) {
      custom(text, options);
      continue;
    }
    if (rule === undefined) continue;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || (rule.integer && !Number.isInteger(value)))
      fail(`${name}: must be a ${rule.integer ? 'whole number' : 'number'}, got ${JSON.stringify(text)}`);
    if (value < rule.min || value > rule.max)
      fail(`${name}: must be from ${rule.min} to ${rule.max}, got ${text}`);
    (options as Record<keyof TOptions, unknown>)[rule.key] = value;
  }
  return options;
}

/**
 * Each emotion event of a simulated device is one synthetic expression of `fps / eventRate` frames, which needs
 * at least 2; throws the bench's usage error naming both options otherwise.
 */
export function checkFramesPerExpression(
  options: { fps: number; eventRate: number },
  usageError: new (message: string) => Error,
): void {
  if (Math.round(options.fps / options.eventRate) < 2)
    throw new usageError(
      `--event-rate ${options.eventRate} at --fps ${options.fps}: each event is one synthetic expression, ` +
        'which needs at least 2 frames; raise --fps or lower --event-rate',
    );
}

import type { Activation, CfgOption, CfgSection, PassthroughOption } from '../network/types';
import { ACTIVATIONS } from '../network/types';
import { CfgError } from './cfg-error';

const INTEGER = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Typed access to one section's options. Every read marks the key as used; `finish` then rejects any key
 * that was neither read nor listed as a known training-only key, and returns those training-only keys so a
 * serialiser can write them back.
 */
export class SectionReader {
  private readonly used = new Set<string>();

  constructor(
    private readonly file: string,
    readonly section: CfgSection,
  ) {}

  /** `file:line` error at the section header. */
  error(reason: string): CfgError {
    return new CfgError(this.file, this.section.line, reason);
  }

  /** `file:line` error at the line of `key` (or the section header when the key is absent). */
  errorAt(key: string, reason: string): CfgError {
    return new CfgError(this.file, this.find(key)?.line ?? this.section.line, reason);
  }

  has(key: string): boolean {
    return this.find(key) !== undefined;
  }

  int(key: string, fallback?: number): number {
    const option = this.take(key);
    if (!option) return this.fallbackOrMissing(key, fallback);
    return this.parseInt(option);
  }

  /** An integer that must be at least `min`. */
  intAtLeast(key: string, min: number, fallback?: number): number {
    const value = this.int(key, fallback);
    if (value < min) throw this.errorAt(key, `${key} must be >= ${min}, got ${value}`);
    return value;
  }

  float(key: string, fallback?: number): number {
    const option = this.take(key);
    if (!option) return this.fallbackOrMissing(key, fallback);
    return this.parseFloat(option);
  }

  /** A 0/1 flag. */
  flag(key: string, fallback: boolean): boolean {
    const option = this.take(key);
    if (!option) return fallback;
    const value = this.parseInt(option);
    if (value !== 0 && value !== 1) {
      throw new CfgError(this.file, option.line, `${key} must be 0 or 1, got '${option.value}'`);
    }
    return value === 1;
  }

  intList(key: string): number[] {
    const option = this.take(key);
    if (!option) throw this.error(`[${this.section.type}] requires '${key}'`);
    return this.listItems(option).map((item) => this.parseInt({ ...option, value: item }));
  }

  /** A comma-separated list of floats, or `undefined` when the key is absent. */
  floatList(key: string): number[] | undefined {
    const option = this.take(key);
    if (!option) return undefined;
    return this.listItems(option).map((item) => this.parseFloat({ ...option, value: item }));
  }

  activation(fallback: Activation): Activation {
    const option = this.take('activation');
    if (!option) return fallback;
    const known = ACTIVATIONS.find((activation) => activation === option.value);
    if (!known) {
      throw new CfgError(
        this.file,
        option.line,
        `unsupported activation '${option.value}' (supported: ${ACTIVATIONS.join(', ')})`,
      );
    }
    return known;
  }

  /**
   * Rejects keys this library recognises as darknet options but cannot honour because they change the
   * computation or the weight layout.
   */
  rejectUnsupported(keys: readonly string[]): void {
    for (const key of keys) {
      const option = this.find(key);
      if (option) {
        throw new CfgError(
          this.file,
          option.line,
          `'${key}' in [${this.section.type}] is a darknet option this library does not support`,
        );
      }
    }
  }

  /** Checks that every remaining key is in `passthroughKeys`; returns those keys in source order. */
  finish(passthroughKeys: ReadonlySet<string>): PassthroughOption[] {
    const passthrough: PassthroughOption[] = [];
    for (const option of this.section.options) {
      if (this.used.has(option.key)) continue;
      if (!passthroughKeys.has(option.key)) {
        throw new CfgError(this.file, option.line, `unknown key '${option.key}' in [${this.section.type}]`);
      }
      passthrough.push({ key: option.key, value: option.value });
    }
    return passthrough;
  }

  private find(key: string): CfgOption | undefined {
    return this.section.options.find((option) => option.key === key);
  }

  private take(key: string): CfgOption | undefined {
    this.used.add(key);
    return this.find(key);
  }

  private fallbackOrMissing(key: string, fallback: number | undefined): number {
    if (fallback === undefined) throw this.error(`[${this.section.type}] requires '${key}'`);
    return fallback;
  }

  private listItems(option: CfgOption): string[] {
    const items = option.value.split(',');
    if (items.length > 0 && items[items.length - 1] === '') items.pop();
    if (items.length === 0) throw new CfgError(this.file, option.line, `${option.key} is an empty list`);
    return items;
  }

  private parseInt(option: CfgOption): number {
    if (!INTEGER.test(option.value)) {
      throw new CfgError(this.file, option.line, `${option.key}: '${option.value}' is not an integer`);
    }
    const value = Number(option.value);
    if (!Number.isSafeInteger(value)) {
      throw new CfgError(this.file, option.line, `${option.key}: '${option.value}' is out of range`);
    }
    return value;
  }

  private parseFloat(option: CfgOption): number {
    if (!FLOAT.test(option.value)) {
      throw new CfgError(this.file, option.line, `${option.key}: '${option.value}' is not a number`);
    }
    return Number(option.value);
  }
}

import type { CfgDocument, CfgOption } from '../network/types';
import { CfgError } from './cfg-error';

interface MutableSection {
  type: string;
  line: number;
  options: CfgOption[];
}

/**
 * Splits cfg text into sections and options, as darknet's `read_cfg` does: whitespace inside a line is
 * removed, lines starting with `#` or `;` and empty lines are skipped, `[name]` opens a section and every
 * other line must be `key=value`. Duplicate keys within a section are rejected (darknet silently uses the
 * first, which hides mistakes).
 */
export function readCfgText(text: string, file: string): CfgDocument {
  const sections: MutableSection[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, zeroBasedLine) => {
    const line = zeroBasedLine + 1;
    const stripped = rawLine.replace(/\s+/g, '');
    if (stripped === '' || stripped.startsWith('#') || stripped.startsWith(';')) return;
    if (stripped.startsWith('[')) {
      const match = /^\[([A-Za-z0-9_]+)\]$/.exec(stripped);
      if (!match?.[1]) throw new CfgError(file, line, `malformed section header '${rawLine.trim()}'`);
      sections.push({ type: match[1], line, options: [] });
      return;
    }
    const current = sections[sections.length - 1];
    if (!current) throw new CfgError(file, line, `option '${rawLine.trim()}' appears before any [section]`);
    const separator = stripped.indexOf('=');
    if (separator <= 0 || separator === stripped.length - 1) {
      throw new CfgError(file, line, `expected 'key=value', got '${rawLine.trim()}'`);
    }
    const key = stripped.slice(0, separator);
    const value = stripped.slice(separator + 1);
    const earlier = current.options.find((option) => option.key === key);
    if (earlier) {
      throw new CfgError(
        file,
        line,
        `duplicate key '${key}' in [${current.type}] (first set on line ${earlier.line})`,
      );
    }
    current.options.push({ key, value, line });
  });
  return { file, sections };
}

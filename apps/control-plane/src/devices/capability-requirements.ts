/** One `key=value` capability requirement; `path` is the key split at dots, aliases resolved. */
export interface CapabilityRequirement {
  path: string[];
  value: string;
}

export type CapabilityRequirementsParse =
  | { ok: true; requirements: CapabilityRequirement[] }
  | { ok: false; problem: string };

/** Short names for capability keys people filter by often. */
const KEY_ALIASES: Readonly<Record<string, string>> = { backend: 'detectorBackends' };

const KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;

/** Parses `backend=tensorrt,arch=arm64,os.platform=linux`. */
export function parseCapabilityRequirements(text: string): CapabilityRequirementsParse {
  const requirements: CapabilityRequirement[] = [];
  for (const [index, raw] of text.split(',').entries()) {
    const part = raw.trim();
    const equals = part.indexOf('=');
    const key = equals > 0 ? part.slice(0, equals) : part;
    const value = equals > 0 ? part.slice(equals + 1) : '';
    if (equals <= 0 || value === '') {
      return { ok: false, problem: `requirement ${index + 1} ("${part}") is not key=value` };
    }
    if (!KEY_PATTERN.test(key)) {
      return { ok: false, problem: `requirement ${index + 1}: "${key}" is not a capability key` };
    }
    requirements.push({ path: (KEY_ALIASES[key] ?? key).split('.'), value });
  }
  return { ok: true, requirements };
}

import { TAG_KEY_PATTERN, TAG_VALUE_PATTERN } from './device-tags';

/** One requirement of a tag selector. */
export type TagRequirement =
  | { op: 'equals'; key: string; value: string }
  | { op: 'not-equals'; key: string; value: string }
  | { op: 'exists'; key: string }
  | { op: 'not-exists'; key: string };

export type TagSelectorParse = { ok: true; requirements: TagRequirement[] } | { ok: false; problem: string };

/**
 * Parses a tag selector: comma-separated requirements, all of which must hold. `k=v` (tag k is v), `k!=v` (tag
 * k is absent or not v), `k` (tag k is set), `!k` (tag k is not set). Example: `site=lab,camera!=csi`.
 */
export function parseTagSelector(selector: string): TagSelectorParse {
  const requirements: TagRequirement[] = [];
  const parts = selector.split(',');
  for (const [index, raw] of parts.entries()) {
    const part = raw.trim();
    const where = `requirement ${index + 1} ("${part}")`;
    const notEquals = part.indexOf('!=');
    const equals = part.indexOf('=');
    let requirement: TagRequirement;
    if (notEquals > 0) {
      requirement = { op: 'not-equals', key: part.slice(0, notEquals), value: part.slice(notEquals + 2) };
    } else if (equals > 0) {
      requirement = { op: 'equals', key: part.slice(0, equals), value: part.slice(equals + 1) };
    } else if (part.startsWith('!')) {
      requirement = { op: 'not-exists', key: part.slice(1) };
    } else {
      requirement = { op: 'exists', key: part };
    }
    if (!TAG_KEY_PATTERN.test(requirement.key)) {
      return { ok: false, problem: `${where}: "${requirement.key}" is not a tag key` };
    }
    if ('value' in requirement && !TAG_VALUE_PATTERN.test(requirement.value)) {
      return { ok: false, problem: `${where}: "${requirement.value}" is not a tag value` };
    }
    requirements.push(requirement);
  }
  return { ok: true, requirements };
}

import { type CapabilityRequirement } from '../devices/capability-requirements';
import { type TagRequirement } from '../devices/tag-selector';

/** Whether `tags` satisfy every requirement (the same rules as the registry's SQL tag filter). */
export function tagsMatch(
  requirements: readonly TagRequirement[],
  tags: Readonly<Record<string, string>>,
): boolean {
  return requirements.every((requirement) => {
    const value = Object.prototype.hasOwnProperty.call(tags, requirement.key)
      ? tags[requirement.key]
      : undefined;
    switch (requirement.op) {
      case 'equals':
        return value === requirement.value;
      case 'not-equals':
        return value !== requirement.value;
      case 'exists':
        return value !== undefined;
      case 'not-exists':
        return value === undefined;
    }
  });
}

/**
 * Whether `capabilities` satisfy every requirement (the registry's rules: a list capability such as
 * `detectorBackends` must contain the value, any other must equal it as text).
 */
export function capabilitiesMatch(
  requirements: readonly CapabilityRequirement[],
  capabilities: Readonly<Record<string, unknown>> | null,
): boolean {
  return requirements.every((requirement) => {
    let node: unknown = capabilities;
    for (const key of requirement.path) {
      node =
        typeof node === 'object' && node !== null && !Array.isArray(node)
          ? (node as Record<string, unknown>)[key]
          : undefined;
    }
    if (Array.isArray(node)) return node.some((item) => textOf(item) === requirement.value);
    return node !== undefined && node !== null && textOf(node) === requirement.value;
  });
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

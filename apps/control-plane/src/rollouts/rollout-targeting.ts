import { type RolloutModelRef, type RolloutVariant } from '../database/schema';
import { type CapabilityRequirement, parseCapabilityRequirements } from '../devices/capability-requirements';
import { parseTagSelector, type TagRequirement } from '../devices/tag-selector';
import { capabilitiesMatch } from './selector-match';

/** A rollout's stored tag selector (validated when the rollout was created); empty selects every device. */
export function storedSelector(selector: string): TagRequirement[] {
  if (selector.trim() === '') return [];
  const parsed = parseTagSelector(selector);
  if (!parsed.ok) throw new Error(`stored rollout selector ${JSON.stringify(selector)}: ${parsed.problem}`);
  return parsed.requirements;
}

export interface VariantRule {
  requirements: CapabilityRequirement[];
  model: RolloutModelRef;
}

/** A rollout's stored variants with their capability requirements parsed. */
export function variantRules(variants: readonly RolloutVariant[]): VariantRule[] {
  return variants.map((variant) => {
    const parsed = parseCapabilityRequirements(variant.capability);
    if (!parsed.ok) throw new Error(`stored rollout variant ${variant.capability}: ${parsed.problem}`);
    return { requirements: parsed.requirements, model: variant.model };
  });
}

/** The model a device gets: the first variant its capabilities match, else the rollout's model. */
export function modelForDevice(
  capabilities: Readonly<Record<string, unknown>> | null,
  model: RolloutModelRef,
  rules: readonly VariantRule[],
): RolloutModelRef {
  return rules.find((rule) => capabilitiesMatch(rule.requirements, capabilities))?.model ?? model;
}

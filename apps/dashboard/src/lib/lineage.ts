import type { ModelVersionSummary } from '../api/types';

export interface LineageRow {
  version: ModelVersionSummary;
  /** 0 for a version without a (known) parent, 1 for its children, ... */
  depth: number;
}

/**
 * Versions as a lineage tree, depth first: each version under its parent, siblings newest first. A version
 * whose parent is not in the list starts its own tree.
 */
export function lineageRows(versions: readonly ModelVersionSummary[]): LineageRow[] {
  const byNumber = new Set(versions.map((version) => version.version));
  const children = new Map<number | null, ModelVersionSummary[]>();
  for (const version of versions) {
    const parent =
      version.parentVersion !== null && byNumber.has(version.parentVersion) ? version.parentVersion : null;
    const siblings = children.get(parent) ?? [];
    siblings.push(version);
    children.set(parent, siblings);
  }
  for (const siblings of children.values()) siblings.sort((a, b) => b.version - a.version);
  const rows: LineageRow[] = [];
  const visit = (parent: number | null, depth: number): void => {
    for (const version of children.get(parent) ?? []) {
      rows.push({ version, depth });
      visit(version.version, depth + 1);
    }
  };
  visit(null, 0);
  return rows;
}

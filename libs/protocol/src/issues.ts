import { type z } from 'zod';

/** Most issues listed in one rejection detail; the rest are counted. */
const MAX_LISTED_ISSUES = 5;

/** `events[3].box.x` style path; `base` names the root (the message when empty). */
export function formatIssuePath(path: readonly PropertyKey[], base = ''): string {
  let text = base;
  for (const segment of path) {
    text +=
      typeof segment === 'number'
        ? `[${segment}]`
        : text.length === 0
          ? String(segment)
          : `.${String(segment)}`;
  }
  return text.length === 0 ? '(message)' : text;
}

/** One line naming every (up to five) bad field and what is wrong with it. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], base = ''): string {
  const listed = issues
    .slice(0, MAX_LISTED_ISSUES)
    .map((issue) => `${formatIssuePath(issue.path, base)}: ${issue.message}`);
  const more = issues.length - listed.length;
  return more > 0 ? `${listed.join('; ')}; and ${more} more` : listed.join('; ');
}

import type { Role } from '../api/types';

const ORDER: readonly Role[] = ['viewer', 'operator', 'admin'];

/** Whether a token of role `held` may do what needs `required` (the API's rule: each role includes the ones before). */
export function roleAllows(held: Role, required: Role): boolean {
  return ORDER.indexOf(held) >= ORDER.indexOf(required);
}

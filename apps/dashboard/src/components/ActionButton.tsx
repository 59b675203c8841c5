import type { ButtonHTMLAttributes } from 'react';
import type { Role } from '../api/types';
import { useRoleAllows, useSession } from '../session/session-context';

interface ActionButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  /** The least role the action needs (the API enforces it too; this only keeps the button honest). */
  needs?: Role;
}

/**
 * A button that changes something. Disabled, with the reason as its title, when the logged-in role may not do
 * it; marked `data-mutating` so the end-to-end test can check that a viewer has none to press.
 */
export function ActionButton({
  needs = 'operator',
  disabled,
  title,
  type = 'button',
  ...rest
}: ActionButtonProps) {
  const allowed = useRoleAllows(needs);
  const { principal } = useSession();
  return (
    <button
      {...rest}
      type={type}
      data-mutating="true"
      disabled={!allowed || disabled}
      title={allowed ? title : `Needs the ${needs} role; this token is ${principal.role}`}
    />
  );
}

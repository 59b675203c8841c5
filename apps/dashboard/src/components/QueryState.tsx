import type { ReactNode } from 'react';

interface QueryStateProps {
  isPending: boolean;
  error: Error | null;
  children: ReactNode;
  what: string;
}

/** Loading and error lines for a query; the content once data is there. */
export function QueryState({ isPending, error, children, what }: QueryStateProps) {
  if (error !== null)
    return (
      <p className="error" role="alert">
        Could not load {what}: {error.message}
      </p>
    );
  if (isPending) return <p className="muted">Loading {what}…</p>;
  return <>{children}</>;
}

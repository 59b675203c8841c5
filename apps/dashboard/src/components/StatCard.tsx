import type { ReactNode } from 'react';

export function StatCard({
  label,
  value,
  detail,
  testId,
}: {
  label: string;
  value: ReactNode;
  detail?: ReactNode;
  testId?: string;
}) {
  return (
    <div className="stat card">
      <span className="stat-label">{label}</span>
      <span className="stat-value" data-testid={testId}>
        {value}
      </span>
      {detail !== undefined && <span className="stat-detail muted">{detail}</span>}
    </div>
  );
}

import { Link } from 'wouter';
import type { FleetSummary } from '../../api/types';

/** Devices per running model (as their births report it). */
export function ModelsInService({ summary }: { summary: FleetSummary }) {
  const rows = [...summary.byModel].sort((a, b) => b.devices - a.devices);
  return (
    <section className="card" aria-labelledby="models-in-service-title">
      <h2 id="models-in-service-title">Models in service</h2>
      {rows.length === 0 ? (
        <p className="muted">No devices yet.</p>
      ) : (
        <table className="simple" data-testid="models-in-service">
          <thead>
            <tr>
              <th>model</th>
              <th className="num">devices</th>
              <th className="num">online</th>
              <th>share</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={`${row.modelId ?? ''}@${row.version ?? ''}`}>
                <td>
                  {row.modelId === null ? (
                    <span className="muted">none</span>
                  ) : (
                    <Link href={`/models/${encodeURIComponent(row.modelId)}`}>
                      {row.modelId}@{row.version}
                    </Link>
                  )}
                </td>
                <td className="num">{row.devices}</td>
                <td className="num">{row.online}</td>
                <td className="share">
                  <span
                    className="share-bar"
                    style={{ width: `${summary.devices === 0 ? 0 : (100 * row.devices) / summary.devices}%` }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

import { useQueries } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'wouter';
import { api, unwrap } from '../../api/client';
import { useModelVersions } from '../../api/models';
import { BarChart } from '../../charts/BarChart';
import { QueryState } from '../../components/QueryState';
import { StatusBadge } from '../../components/StatusBadge';
import { readBaseline } from '../../lib/baseline';
import { formatCompact, formatDateTime, formatFixed, formatPercent } from '../../lib/format';
import { lineageRows } from '../../lib/lineage';
import { describeTransforms, versionTone } from './version-status';

/** A model's versions as a lineage tree, with their benchmark baselines side by side. */
export function ModelVersions({ name }: { name: string }) {
  const versions = useModelVersions(name);
  const items = useMemo(() => versions.data?.items ?? [], [versions.data]);
  const details = useQueries({
    queries: items.map((version) => ({
      queryKey: ['model-version', name, version.version],
      queryFn: async ({ signal }: { signal: AbortSignal }) =>
        unwrap(
          await api.GET('/models/{name}/versions/{version}', {
            params: { path: { name, version: version.version } },
            signal,
          }),
        ),
      staleTime: 10_000,
    })),
  });
  const baselines = new Map(
    details.flatMap((detail) =>
      detail.data ? [[detail.data.version, readBaseline(detail.data.baseline)] as const] : [],
    ),
  );
  const rows = useMemo(() => lineageRows(items), [items]);
  const benchmarked = items
    .filter((version) => typeof baselines.get(version.version)?.fps === 'number')
    .sort((a, b) => a.version - b.version);
  const fpsBars = [
    {
      name: 'baseline FPS',
      values: benchmarked.map((version) => baselines.get(version.version)?.fps ?? null),
    },
  ];

  return (
    <QueryState isPending={versions.isPending} error={versions.error} what={`versions of ${name}`}>
      <section className="card wide" aria-labelledby="versions-title">
        <h2 id="versions-title">Versions and lineage</h2>
        <div className="table-scroll">
          <table className="simple" data-testid="model-versions">
            <thead>
              <tr>
                <th>version</th>
                <th>status</th>
                <th>transforms from parent</th>
                <th className="num">params</th>
                <th className="num">FLOPs</th>
                <th className="num">baseline FPS</th>
                <th className="num">p95 ms</th>
                <th className="num">accuracy</th>
                <th>uploaded</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ version, depth }) => {
                const baseline = baselines.get(version.version);
                return (
                  <tr key={version.id}>
                    <td style={{ paddingLeft: `${0.5 + depth * 1.25}rem` }}>
                      {depth > 0 && <span className="muted">└ </span>}
                      <Link href={`/models/${encodeURIComponent(name)}/${version.version}`}>
                        v{version.version}
                      </Link>
                      {version.parentVersion !== null && (
                        <span className="muted small"> from v{version.parentVersion}</span>
                      )}
                    </td>
                    <td>
                      <span title={version.statusReason ?? undefined}>
                        <StatusBadge tone={versionTone(version.status)}>{version.status}</StatusBadge>
                      </span>
                    </td>
                    <td>{describeTransforms(version.transforms)}</td>
                    <td className="num">{formatCompact(version.totals.params)}</td>
                    <td className="num">{formatCompact(version.totals.flops)}</td>
                    <td className="num">{formatFixed(baseline?.fps)}</td>
                    <td className="num">{formatFixed(baseline?.latencyP95Ms)}</td>
                    <td className="num">{formatPercent(baseline?.accuracy)}</td>
                    <td>
                      {formatDateTime(version.createdAt)}{' '}
                      <span className="muted small">by {version.uploadedBy}</span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
      {benchmarked.length > 0 && (
        <section className="card" aria-labelledby="baselines-title">
          <h2 id="baselines-title">Benchmark baselines</h2>
          <BarChart
            x={benchmarked.map((version) => version.version)}
            bars={fpsBars}
            xLabel="version"
            yLabel="FPS"
            formatX={(value) => `v${value}`}
            formatY={(value) => value.toFixed(1)}
            height={200}
            testId="baseline-chart"
            label="Baseline FPS per version"
          />
          <p className="muted small">Native detector, CPU backend, on the control plane&apos;s worker.</p>
        </section>
      )}
    </QueryState>
  );
}

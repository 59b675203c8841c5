import { Link } from 'wouter';
import { useModelVersion } from '../../api/models';
import type { ModelVersionDetail } from '../../api/types';
import { QueryState } from '../../components/QueryState';
import { StatusBadge } from '../../components/StatusBadge';
import { readBaseline } from '../../lib/baseline';
import { formatCompact, formatDateTime, formatFixed, formatPercent } from '../../lib/format';
import { LayerCharts } from './LayerCharts';
import { PipelineJobs } from './PipelineJobs';
import { describeTransforms, versionTone } from './version-status';

/** One version: lineage and cost against its parent, per-layer analysis, jobs, baseline, signed files. */
export function VersionDetail({ name, version }: { name: string; version: number }) {
  const detail = useModelVersion(name, version);
  const parent = useModelVersion(name, detail.data?.parentVersion ?? undefined);
  return (
    <QueryState isPending={detail.isPending} error={detail.error} what={`${name} v${version}`}>
      {detail.data && (
        <>
          <div className="grid">
            <Summary detail={detail.data} parent={parent.data} />
            <Baseline detail={detail.data} />
            <PipelineJobs jobs={detail.data.jobs} />
          </div>
          <LayerCharts layers={detail.data.analysis.layers} totals={detail.data.analysis.totals} />
          <Files detail={detail.data} />
        </>
      )}
    </QueryState>
  );
}

function change(current: number, before: number | undefined): string {
  if (before === undefined || before === 0) return '';
  const percent = ((current - before) / before) * 100;
  return ` (${percent > 0 ? '+' : ''}${percent.toFixed(1)} % vs parent)`;
}

function Summary({ detail, parent }: { detail: ModelVersionDetail; parent: ModelVersionDetail | undefined }) {
  return (
    <section className="card" aria-labelledby="version-summary-title">
      <h2 id="version-summary-title">
        {detail.model} v{detail.version}{' '}
        <StatusBadge tone={versionTone(detail.status)}>{detail.status}</StatusBadge>
      </h2>
      {detail.statusReason !== null && <p className="error">{detail.statusReason}</p>}
      <dl className="facts">
        <dt>parent</dt>
        <dd>
          {detail.parentVersion === null ? (
            <span className="muted">none (uploaded as is)</span>
          ) : (
            <Link href={`/models/${encodeURIComponent(detail.model)}/${detail.parentVersion}`}>
              v{detail.parentVersion}
            </Link>
          )}
        </dd>
        <dt>transforms</dt>
        <dd>{describeTransforms(detail.transforms)}</dd>
        <dt>params</dt>
        <dd data-testid="version-params">
          {formatCompact(detail.totals.params)}
          {change(detail.totals.params, parent?.totals.params)}
        </dd>
        <dt>FLOPs</dt>
        <dd>
          {formatCompact(detail.totals.flops)}
          {change(detail.totals.flops, parent?.totals.flops)}
        </dd>
        <dt>classes</dt>
        <dd>{detail.classes}</dd>
        <dt>input</dt>
        <dd>{detail.inputShape.join(' x ')}</dd>
        <dt>uploaded</dt>
        <dd>
          {formatDateTime(detail.createdAt)} by {detail.uploadedBy}
        </dd>
        <dt>id</dt>
        <dd>
          <code>{detail.id}</code>
        </dd>
      </dl>
    </section>
  );
}

function Baseline({ detail }: { detail: ModelVersionDetail }) {
  const baseline = readBaseline(detail.baseline);
  return (
    <section className="card" aria-labelledby="baseline-title">
      <h2 id="baseline-title">Benchmark baseline</h2>
      {baseline === null ? (
        <p className="muted">Not benchmarked yet.</p>
      ) : (
        <dl className="facts" data-testid="version-baseline">
          <dt>FPS</dt>
          <dd>{formatFixed(baseline.fps)}</dd>
          <dt>latency p50 / p95</dt>
          <dd>
            {formatFixed(baseline.latencyP50Ms)} / {formatFixed(baseline.latencyP95Ms)} ms
          </dd>
          <dt>accuracy</dt>
          <dd>{formatPercent(baseline.accuracy)}</dd>
          {baseline.note !== null && (
            <>
              <dt>note</dt>
              <dd className="muted">{baseline.note}</dd>
            </>
          )}
          {baseline.backend !== null && (
            <>
              <dt>backend</dt>
              <dd>{baseline.backend}</dd>
            </>
          )}
        </dl>
      )}
    </section>
  );
}

function Files({ detail }: { detail: ModelVersionDetail }) {
  return (
    <section className="card wide" aria-labelledby="files-title">
      <h2 id="files-title">Files and signed manifests</h2>
      <div className="table-scroll">
        <table className="simple">
          <thead>
            <tr>
              <th>role</th>
              <th>file</th>
              <th className="num">size</th>
              <th>sha256</th>
            </tr>
          </thead>
          <tbody>
            {detail.files.map((file) => (
              <tr key={`${file.role}-${file.sha256}`}>
                <td>{file.role}</td>
                <td>{file.fileName}</td>
                <td className="num">{formatCompact(file.sizeBytes)}B</td>
                <td>
                  <code title={file.sha256}>{file.sha256.slice(0, 16)}…</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {detail.manifests.length > 0 && (
        <p className="muted small">
          Signed for devices:{' '}
          {detail.manifests
            .map((manifest) => `${manifest.format} (${manifest.sha256.slice(0, 12)}…)`)
            .join(', ')}
        </p>
      )}
    </section>
  );
}

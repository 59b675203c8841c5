import { useDeviceJobs } from '../../api/devices';
import { useVersionIndex } from '../../api/models';
import type { DeviceJob, ModelVersionSummary } from '../../api/types';
import { QueryState } from '../../components/QueryState';
import { StatusBadge, type Tone } from '../../components/StatusBadge';
import { formatDateTime } from '../../lib/format';

export function jobTone(status: DeviceJob['status']): Tone {
  switch (status) {
    case 'SUCCEEDED':
      return 'good';
    case 'FAILED':
    case 'TIMED_OUT':
    case 'REJECTED':
      return 'bad';
    case 'CANCELED':
      return 'warn';
    case 'QUEUED':
    case 'IN_PROGRESS':
      return 'busy';
  }
}

function describeModel(
  job: DeviceJob,
  versions: ReadonlyMap<string, ModelVersionSummary> | undefined,
): string {
  // A desired-state job names the model version it installs by id.
  const versionId: unknown = job.modelVersionId;
  if (typeof versionId === 'string') {
    const version = versions?.get(versionId);
    return version === undefined ? versionId : `${version.model}@${version.version}`;
  }
  const parameters = job.parameters as { modelId?: unknown; version?: unknown };
  if (typeof parameters.modelId === 'string')
    return typeof parameters.version === 'string' || typeof parameters.version === 'number'
      ? `${parameters.modelId}@${parameters.version}`
      : parameters.modelId;
  if (typeof job.statusDetails.modelId === 'string') return job.statusDetails.modelId;
  return job.operation === 'rollback' ? 'previous slot' : '–';
}

/** The device's jobs, newest first: model installs (with the model), rollbacks, evaluations, engine builds. */
export function ModelHistory({ deviceId }: { deviceId: string }) {
  const jobs = useDeviceJobs(deviceId);
  const versions = useVersionIndex();
  return (
    <section className="card wide" aria-labelledby="model-history-title">
      <h2 id="model-history-title">Model history</h2>
      <QueryState isPending={jobs.isPending} error={jobs.error} what="the device's jobs">
        {jobs.data?.items.length === 0 ? (
          <p className="muted">No model was ever sent to this device.</p>
        ) : (
          <div className="table-scroll">
            <table className="simple" data-testid="model-history">
              <thead>
                <tr>
                  <th>queued</th>
                  <th>operation</th>
                  <th>model</th>
                  <th>status</th>
                  <th>step / reason</th>
                  <th>finished</th>
                </tr>
              </thead>
              <tbody>
                {jobs.data?.items.map((job) => (
                  <tr key={job.jobId}>
                    <td>{formatDateTime(job.queuedAt)}</td>
                    <td>{job.operation}</td>
                    <td>{describeModel(job, versions.data)}</td>
                    <td>
                      <StatusBadge tone={jobTone(job.status)}>
                        {job.status.toLowerCase().replace('_', ' ')}
                      </StatusBadge>
                    </td>
                    <td className="muted">
                      {[job.statusDetails.step, job.statusDetails.reason].filter(Boolean).join(': ')}
                    </td>
                    <td>{formatDateTime(job.finishedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
    </section>
  );
}

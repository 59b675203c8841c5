import { useState } from 'react';
import { usePipelineJob } from '../../api/models';
import type { ModelVersionDetail } from '../../api/types';
import { ProgressBar } from '../../components/ProgressBar';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDateTime } from '../../lib/format';
import { pipelineJobTone } from './version-status';

/** The version's conversion and benchmark jobs with their progress; a job's log opens on demand. */
export function PipelineJobs({ jobs }: { jobs: ModelVersionDetail['jobs'] }) {
  const [open, setOpen] = useState<string | undefined>();
  return (
    <section className="card" aria-labelledby="jobs-title">
      <h2 id="jobs-title">Conversion and benchmark jobs</h2>
      {jobs.length === 0 ? (
        <p className="muted">No jobs.</p>
      ) : (
        <ul className="job-list" data-testid="pipeline-jobs">
          {jobs.map((job) => (
            <li key={job.id}>
              <div className="row spread">
                <span>
                  <strong>{job.queue}</strong>{' '}
                  <StatusBadge tone={pipelineJobTone(job.status)}>{job.status}</StatusBadge>
                </span>
                <button
                  type="button"
                  className="ghost small"
                  onClick={() => setOpen(open === job.id ? undefined : job.id)}
                >
                  {open === job.id ? 'Hide log' : 'Log'}
                </button>
              </div>
              <ProgressBar percent={job.progress} label={`${job.queue} progress`} />
              {open === job.id && <JobLog id={job.id} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function JobLog({ id }: { id: string }) {
  const job = usePipelineJob(id);
  if (job.error) return <p className="error">{job.error.message}</p>;
  if (!job.data) return <p className="muted">Loading the log…</p>;
  return (
    <div className="job-log">
      <p className="muted small">
        attempts {job.data.attempts} · created {formatDateTime(job.data.createdAt)} · finished{' '}
        {formatDateTime(job.data.finishedAt)}
      </p>
      {job.data.failedReason !== null && <p className="error">{job.data.failedReason}</p>}
      <pre>{job.data.logs.join('\n') || '(no log lines)'}</pre>
    </div>
  );
}

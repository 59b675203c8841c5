import type { RolloutPreview } from '../../api/types';

/** What a rollout would do now: its targets, the devices each phase would start, the offline ones deferred. */
export function RolloutPreviewPanel({ preview }: { preview: RolloutPreview }) {
  return (
    <section className="card wide" aria-labelledby="preview-title" data-testid="rollout-preview">
      <h2 id="preview-title">Preview</h2>
      <p>
        <strong data-testid="preview-targets">{preview.targets}</strong> target devices, {preview.online}{' '}
        online
        {preview.deferred.length > 0 && `, ${preview.deferred.length} offline (started when they come back)`}.
      </p>
      <ol className="phase-preview">
        {preview.phases.map((phase) => (
          <li key={phase.index}>
            <strong>{phase.name}</strong>: {phase.deviceIds.length} device
            {phase.deviceIds.length === 1 ? '' : 's'} now, {phase.cumulative} in total once done
            <div className="muted small device-ids">{phase.deviceIds.join(', ')}</div>
          </li>
        ))}
      </ol>
      <div className="table-scroll">
        <table className="simple">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>device</th>
              <th>online</th>
              <th>runs now</th>
              <th>gets</th>
            </tr>
          </thead>
          <tbody>
            {preview.devices.slice(0, 200).map((device) => (
              <tr key={device.deviceId}>
                <td className="num">{device.position}</td>
                <td>{device.deviceId}</td>
                <td>{device.online ? 'yes' : 'no'}</td>
                <td>
                  {device.currentModel === null
                    ? 'none'
                    : `${device.currentModel.modelId}@${device.currentModel.version}`}
                </td>
                <td>
                  {device.model.modelId}@{device.model.version}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {preview.devices.length > 200 && (
        <p className="muted small">First 200 of {preview.devices.length} devices in rollout order.</p>
      )}
    </section>
  );
}

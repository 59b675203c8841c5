import { Link } from 'wouter';
import { useModels } from '../../api/models';
import { QueryState } from '../../components/QueryState';
import { formatDateTime } from '../../lib/format';
import { ModelVersions } from './ModelVersions';
import { VersionDetail } from './VersionDetail';

/** Models and their versions; `name` and `version` come from the address (#/models/<name>/<version>). */
export function ModelsPage({ name, version }: { name?: string; version?: number }) {
  const models = useModels();
  return (
    <>
      <div className="page-head">
        <h1>
          {name === undefined ? (
            'Models'
          ) : (
            <>
              <Link href="/models" className="muted">
                Models
              </Link>{' '}
              /{' '}
              {version === undefined ? (
                name
              ) : (
                <Link href={`/models/${encodeURIComponent(name)}`}>{name}</Link>
              )}
              {version !== undefined && <> / v{version}</>}
            </>
          )}
        </h1>
      </div>
      {name === undefined && (
        <QueryState isPending={models.isPending} error={models.error} what="models">
          {models.data?.items.length === 0 ? (
            <p className="muted">
              No models yet. Upload one with <code>emofleet models upload</code> or{' '}
              <code>POST /models/&lt;name&gt;/versions</code>.
            </p>
          ) : (
            <div className="table-scroll card">
              <table className="simple" data-testid="model-list">
                <thead>
                  <tr>
                    <th>model</th>
                    <th className="num">versions</th>
                    <th className="num">latest</th>
                    <th>created</th>
                  </tr>
                </thead>
                <tbody>
                  {models.data?.items.map((model) => (
                    <tr key={model.name}>
                      <td>
                        <Link href={`/models/${encodeURIComponent(model.name)}`}>{model.name}</Link>
                      </td>
                      <td className="num">{model.versions}</td>
                      <td className="num">{model.latestVersion ?? '–'}</td>
                      <td>{formatDateTime(model.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryState>
      )}
      {name !== undefined && version === undefined && <ModelVersions name={name} />}
      {name !== undefined && version !== undefined && <VersionDetail name={name} version={version} />}
    </>
  );
}

import { type FormEvent, useState } from 'react';
import { useRollbackDevice, useUpdateDevice } from '../../api/devices';
import type { Device } from '../../api/types';
import { ActionButton } from '../../components/ActionButton';
import { formatTags } from '../../lib/format';

/** `k=v k2=v2` (spaces or commas) → tags; a bad pair is reported by name. */
export function parseTagList(
  text: string,
): { ok: true; tags: Record<string, string> } | { ok: false; problem: string } {
  const tags: Record<string, string> = {};
  for (const pair of text.split(/[\s,]+/).filter((part) => part !== '')) {
    const separator = pair.indexOf('=');
    if (separator <= 0) return { ok: false, problem: `"${pair}" is not key=value` };
    tags[pair.slice(0, separator)] = pair.slice(separator + 1);
  }
  return { ok: true, tags };
}

/** Operator actions on one device: rename, replace its tags, roll back to the previous model slot. */
export function DeviceActions({ device }: { device: Device }) {
  const update = useUpdateDevice(device.id);
  const rollback = useRollbackDevice(device.id);
  const [name, setName] = useState(device.name);
  const [tagText, setTagText] = useState(formatTags(device.tags));
  const [problem, setProblem] = useState<string | undefined>();

  const save = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseTagList(tagText);
    if (!parsed.ok) {
      setProblem(parsed.problem);
      return;
    }
    setProblem(undefined);
    // The API merges: name the tags to set, and null for each tag that was removed.
    const removed = Object.fromEntries(
      Object.keys(device.tags)
        .filter((key) => !(key in parsed.tags))
        .map((key) => [key, null]),
    );
    update.mutate({
      ...(name.trim() !== device.name ? { name: name.trim() } : {}),
      tags: { ...removed, ...parsed.tags },
    });
  };

  const failure = problem ?? update.error?.message ?? rollback.error?.message;
  return (
    <section className="card" aria-labelledby="device-actions-title">
      <h2 id="device-actions-title">Manage</h2>
      <form className="stack" onSubmit={save}>
        <label className="field">
          <span>Name</span>
          <input
            value={name}
            onChange={(event) => setName(event.target.value)}
            data-testid="device-name-input"
          />
        </label>
        <label className="field">
          <span>Tags (key=value, space separated)</span>
          <input
            value={tagText}
            onChange={(event) => setTagText(event.target.value)}
            data-testid="device-tags-input"
          />
        </label>
        <div className="row">
          <ActionButton
            type="submit"
            className="primary"
            disabled={update.isPending}
            data-testid="device-save"
          >
            Save name and tags
          </ActionButton>
          <ActionButton
            className="danger"
            disabled={rollback.isPending || !device.online}
            onClick={() => {
              if (window.confirm(`Roll ${device.name} back to its previous model slot?`)) rollback.mutate();
            }}
            data-testid="device-rollback"
          >
            Roll back model
          </ActionButton>
        </div>
        {update.isSuccess && <p className="ok">Saved.</p>}
        {rollback.isSuccess && <p className="ok">Rollback job {rollback.data.jobId} queued.</p>}
        {failure !== undefined && (
          <p className="error" role="alert">
            {failure}
          </p>
        )}
      </form>
    </section>
  );
}

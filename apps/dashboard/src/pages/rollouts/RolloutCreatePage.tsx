import { type FormEvent, useMemo, useState } from 'react';
import { useLocation } from 'wouter';
import { useVersionIndex } from '../../api/models';
import { useCreateRollout, usePreviewRollout } from '../../api/rollouts';
import { ActionButton } from '../../components/ActionButton';
import { buildRolloutRequest, DEFAULT_ROLLOUT_FORM, type PhaseForm, type RolloutForm } from './rollout-form';
import { RolloutPreviewPanel } from './RolloutPreviewPanel';

/** A new rollout: model, target selector, phases, health gates; a preview of the devices before creating it. */
export function RolloutCreatePage() {
  const [form, setForm] = useState<RolloutForm>(DEFAULT_ROLLOUT_FORM);
  const versions = useVersionIndex();
  const preview = usePreviewRollout();
  const create = useCreateRollout();
  const [, navigate] = useLocation();
  const [problem, setProblem] = useState<string | undefined>();
  const ready = useMemo(
    () =>
      [...(versions.data?.values() ?? [])]
        .filter((version) => version.status === 'ready')
        .sort((a, b) => a.model.localeCompare(b.model) || b.version - a.version),
    [versions.data],
  );

  const set = <K extends keyof RolloutForm>(key: K, value: RolloutForm[K]) =>
    setForm((current) => ({ ...current, [key]: value }));
  const setPhase = (index: number, patch: Partial<PhaseForm>) =>
    setForm((current) => ({
      ...current,
      phases: current.phases.map((phase, at) => (at === index ? { ...phase, ...patch } : phase)),
    }));

  const built = () => {
    const result = buildRolloutRequest(form);
    setProblem(result.ok ? undefined : result.problem);
    return result.ok ? result.request : undefined;
  };
  const runPreview = () => {
    const request = built();
    if (request) preview.mutate(request);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const request = built();
    if (request)
      create.mutate(request, {
        onSuccess: (rollout) => navigate(`/rollouts/${encodeURIComponent(rollout.id)}`),
      });
  };
  const failure = problem ?? create.error?.message ?? preview.error?.message;

  return (
    <>
      <div className="page-head">
        <h1>New rollout</h1>
      </div>
      <form className="grid" onSubmit={submit} aria-label="New rollout">
        <section className="card stack">
          <h2>What and where</h2>
          <label className="field">
            <span>Name</span>
            <input
              value={form.name}
              onChange={(event) => set('name', event.target.value)}
              placeholder="e.g. tiny 1x1 to the lab"
              data-testid="rollout-name"
            />
          </label>
          <label className="field">
            <span>Model version (ready ones)</span>
            <select
              value={form.model}
              onChange={(event) => set('model', event.target.value)}
              required
              data-testid="rollout-model"
            >
              <option value="">choose…</option>
              {ready.map((version) => (
                <option key={version.id} value={`${version.model}@${version.version}`}>
                  {version.model} v{version.version}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Target devices: tag selector (empty: every device)</span>
            <input
              value={form.selector}
              onChange={(event) => set('selector', event.target.value)}
              placeholder="site=lab,camera!=csi"
              data-testid="rollout-selector"
            />
          </label>
          <div className="row">
            <label className="field">
              <span>Concurrent installs</span>
              <input
                value={form.maxConcurrentInstalls}
                onChange={(event) => set('maxConcurrentInstalls', event.target.value)}
                inputMode="numeric"
              />
            </label>
            <label className="field">
              <span>Install time-out (s)</span>
              <input
                value={form.installTimeoutSeconds}
                onChange={(event) => set('installTimeoutSeconds', event.target.value)}
                inputMode="numeric"
              />
            </label>
            <label className="field">
              <span>Install retries</span>
              <input
                value={form.installRetries}
                onChange={(event) => set('installRetries', event.target.value)}
                inputMode="numeric"
              />
            </label>
          </div>
        </section>
        <section className="card stack">
          <h2>Health gates</h2>
          <div className="row">
            <label className="field">
              <span>Min FPS</span>
              <input
                value={form.fpsMin}
                onChange={(event) => set('fpsMin', event.target.value)}
                inputMode="decimal"
                data-testid="gate-fps-min"
              />
            </label>
            <label className="field">
              <span>Min FPS, % of previous model</span>
              <input
                value={form.fpsMinPercentOfPrevious}
                onChange={(event) => set('fpsMinPercentOfPrevious', event.target.value)}
                inputMode="decimal"
                data-testid="gate-fps-percent"
              />
            </label>
          </div>
          <label className="field">
            <span>Accuracy drop allowed vs previous model (0.01 = one point; empty: not checked)</span>
            <input
              value={form.accuracyTolerance}
              onChange={(event) => set('accuracyTolerance', event.target.value)}
              inputMode="decimal"
            />
          </label>
          <div className="row">
            <label className="field">
              <span>Warm-up frames</span>
              <input
                value={form.warmupFrames}
                onChange={(event) => set('warmupFrames', event.target.value)}
                inputMode="numeric"
              />
            </label>
            <label className="field">
              <span>Measured frames</span>
              <input
                value={form.measureFrames}
                onChange={(event) => set('measureFrames', event.target.value)}
                inputMode="numeric"
              />
            </label>
            <label className="field">
              <span>Abort when failed % ≥</span>
              <input
                value={form.abortFailedPercent}
                onChange={(event) => set('abortFailedPercent', event.target.value)}
                inputMode="decimal"
              />
            </label>
          </div>
        </section>
        <section className="card wide stack">
          <h2>Phases</h2>
          <div className="table-scroll">
            <table className="simple phases-editor">
              <thead>
                <tr>
                  <th>name</th>
                  <th>size</th>
                  <th>of</th>
                  <th>soak (s)</th>
                  <th>healthy % to go on</th>
                  <th>start</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {form.phases.map((phase, index) => (
                  <tr key={index} data-testid={`phase-${index}`}>
                    <td>
                      <input
                        value={phase.name}
                        onChange={(event) => setPhase(index, { name: event.target.value })}
                        aria-label={`phase ${index + 1} name`}
                      />
                    </td>
                    <td>
                      <input
                        value={phase.size}
                        onChange={(event) => setPhase(index, { size: event.target.value })}
                        inputMode="decimal"
                        size={5}
                        aria-label={`phase ${index + 1} size`}
                      />
                    </td>
                    <td>
                      <select
                        value={phase.unit}
                        onChange={(event) =>
                          setPhase(index, { unit: event.target.value as PhaseForm['unit'] })
                        }
                        aria-label={`phase ${index + 1} unit`}
                      >
                        <option value="percent">% of targets</option>
                        <option value="count">devices</option>
                      </select>
                    </td>
                    <td>
                      <input
                        value={phase.soakSeconds}
                        onChange={(event) => setPhase(index, { soakSeconds: event.target.value })}
                        inputMode="numeric"
                        size={5}
                        aria-label={`phase ${index + 1} soak seconds`}
                      />
                    </td>
                    <td>
                      <input
                        value={phase.successThresholdPercent}
                        onChange={(event) => setPhase(index, { successThresholdPercent: event.target.value })}
                        inputMode="decimal"
                        size={5}
                        aria-label={`phase ${index + 1} success threshold`}
                      />
                    </td>
                    <td>
                      <select
                        value={phase.approval}
                        onChange={(event) =>
                          setPhase(index, { approval: event.target.value as PhaseForm['approval'] })
                        }
                        aria-label={`phase ${index + 1} approval`}
                      >
                        <option value="automatic">automatically</option>
                        <option value="manual">after approval</option>
                      </select>
                    </td>
                    <td>
                      <button
                        type="button"
                        className="ghost small"
                        disabled={form.phases.length === 1}
                        onClick={() =>
                          set(
                            'phases',
                            form.phases.filter((_, at) => at !== index),
                          )
                        }
                        aria-label={`remove phase ${index + 1}`}
                      >
                        ✕
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted small">Sizes are cumulative; the last phase must be 100 % of the targets.</p>
          <div className="row">
            <button
              type="button"
              onClick={() =>
                set('phases', [
                  ...form.phases.slice(0, -1),
                  {
                    name: '',
                    size: '50',
                    unit: 'percent',
                    soakSeconds: '0',
                    successThresholdPercent: '95',
                    approval: 'automatic',
                  },
                  ...form.phases.slice(-1),
                ])
              }
            >
              Add a phase
            </button>
            <button
              type="button"
              onClick={runPreview}
              disabled={preview.isPending}
              data-testid="rollout-preview-button"
            >
              {preview.isPending ? 'Previewing…' : 'Preview target devices'}
            </button>
            <ActionButton
              type="submit"
              className="primary"
              disabled={create.isPending}
              data-testid="rollout-create"
            >
              {create.isPending ? 'Creating…' : 'Create rollout'}
            </ActionButton>
          </div>
          {failure !== undefined && (
            <p className="error" role="alert">
              {failure}
            </p>
          )}
        </section>
        {preview.data && <RolloutPreviewPanel preview={preview.data} />}
      </form>
    </>
  );
}

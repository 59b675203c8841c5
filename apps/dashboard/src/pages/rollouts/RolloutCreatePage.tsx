import { type FormEvent, useMemo, useState } from 'react';
import { useLocation } from 'wouter';
import { useVersionIndex } from '../../api/models';
import { useCreateRollout, usePreviewRollout } from '../../api/rollouts';
import { ActionButton } from '../../components/ActionButton';
import { buildRolloutRequest, DEFAULT_ROLLOUT_FORM, type PhaseForm, type RolloutForm } from './rollout-form';
import { RolloutField, type FieldChoice } from './RolloutField';
import { RolloutPreviewPanel } from './RolloutPreviewPanel';

/** The form's settings that are free text (all but the phases). */
type TextSetting = Exclude<keyof RolloutForm, 'phases'>;

/** A phase added before the last one. */
const DEFAULT_PHASE: PhaseForm = {
  name: '',
  size: '50',
  unit: 'percent',
  soakSeconds: '0',
  successThresholdPercent: '95',
  approval: 'automatic',
};
const UNIT_CHOICES: readonly FieldChoice<PhaseForm['unit']>[] = [
  { value: 'percent', label: '% of targets' },
  { value: 'count', label: 'devices' },
];
const APPROVAL_CHOICES: readonly FieldChoice<PhaseForm['approval']>[] = [
  { value: 'automatic', label: 'automatically' },
  { value: 'manual', label: 'after approval' },
];

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
  /** Value and change handler of a text setting of the form, for a RolloutField. */
  const bind = (key: TextSetting) => ({
    value: form[key],
    onChange: (value: string) => set(key, value),
  });
  /** Value and change handler of one column of a phase, for a RolloutField. */
  const bindPhase = <K extends keyof PhaseForm>(phase: PhaseForm, index: number, key: K) => ({
    value: phase[key],
    onChange: (value: PhaseForm[K]) => setPhase(index, { [key]: value }),
  });

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
          <RolloutField
            label="Name"
            {...bind('name')}
            placeholder="e.g. tiny 1x1 to the lab"
            testId="rollout-name"
          />
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
          <RolloutField
            label="Target devices: tag selector (empty: every device)"
            {...bind('selector')}
            placeholder="site=lab,camera!=csi"
            testId="rollout-selector"
          />
          <div className="row">
            <RolloutField
              label="Concurrent installs"
              {...bind('maxConcurrentInstalls')}
              inputMode="numeric"
            />
            <RolloutField
              label="Install time-out (s)"
              {...bind('installTimeoutSeconds')}
              inputMode="numeric"
            />
            <RolloutField label="Install retries" {...bind('installRetries')} inputMode="numeric" />
          </div>
        </section>
        <section className="card stack">
          <h2>Health gates</h2>
          <div className="row">
            <RolloutField label="Min FPS" {...bind('fpsMin')} inputMode="decimal" testId="gate-fps-min" />
            <RolloutField
              label="Min FPS, % of previous model"
              {...bind('fpsMinPercentOfPrevious')}
              inputMode="decimal"
              testId="gate-fps-percent"
            />
          </div>
          <RolloutField
            label="Accuracy drop allowed vs previous model (0.01 = one point; empty: not checked)"
            {...bind('accuracyTolerance')}
            inputMode="decimal"
          />
          <div className="row">
            <RolloutField label="Warm-up frames" {...bind('warmupFrames')} inputMode="numeric" />
            <RolloutField label="Measured frames" {...bind('measureFrames')} inputMode="numeric" />
            <RolloutField label="Abort when failed % ≥" {...bind('abortFailedPercent')} inputMode="decimal" />
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
                      <RolloutField
                        label={`phase ${index + 1} name`}
                        {...bindPhase(phase, index, 'name')}
                        layout="cell"
                      />
                    </td>
                    <td>
                      <RolloutField
                        label={`phase ${index + 1} size`}
                        {...bindPhase(phase, index, 'size')}
                        inputMode="decimal"
                        layout="cell"
                      />
                    </td>
                    <td>
                      <RolloutField
                        label={`phase ${index + 1} unit`}
                        {...bindPhase(phase, index, 'unit')}
                        choices={UNIT_CHOICES}
                        layout="cell"
                      />
                    </td>
                    <td>
                      <RolloutField
                        label={`phase ${index + 1} soak seconds`}
                        {...bindPhase(phase, index, 'soakSeconds')}
                        inputMode="numeric"
                        layout="cell"
                      />
                    </td>
                    <td>
                      <RolloutField
                        label={`phase ${index + 1} success threshold`}
                        {...bindPhase(phase, index, 'successThresholdPercent')}
                        inputMode="decimal"
                        layout="cell"
                      />
                    </td>
                    <td>
                      <RolloutField
                        label={`phase ${index + 1} approval`}
                        {...bindPhase(phase, index, 'approval')}
                        choices={APPROVAL_CHOICES}
                        layout="cell"
                      />
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
                set('phases', [...form.phases.slice(0, -1), DEFAULT_PHASE, ...form.phases.slice(-1)])
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

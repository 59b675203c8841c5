import type { CreateRollout } from '../../api/types';

export interface PhaseForm {
  name: string;
  size: string;
  unit: 'percent' | 'count';
  soakSeconds: string;
  successThresholdPercent: string;
  approval: 'automatic' | 'manual';
}

export interface RolloutForm {
  name: string;
  /** `<model>@<version number>`. */
  model: string;
  selector: string;
  phases: PhaseForm[];
  fpsMin: string;
  fpsMinPercentOfPrevious: string;
  accuracyTolerance: string;
  warmupFrames: string;
  measureFrames: string;
  maxConcurrentInstalls: string;
  installTimeoutSeconds: string;
  installRetries: string;
  abortFailedPercent: string;
}

export const DEFAULT_ROLLOUT_FORM: RolloutForm = {
  name: '',
  model: '',
  selector: '',
  phases: [
    {
      name: 'canary',
      size: '10',
      unit: 'percent',
      soakSeconds: '60',
      successThresholdPercent: '100',
      approval: 'automatic',
    },
    {
      name: 'fleet',
      size: '100',
      unit: 'percent',
      soakSeconds: '0',
      successThresholdPercent: '95',
      approval: 'automatic',
    },
  ],
  fpsMin: '',
  fpsMinPercentOfPrevious: '90',
  accuracyTolerance: '',
  warmupFrames: '5',
  measureFrames: '30',
  maxConcurrentInstalls: '10',
  installTimeoutSeconds: '1800',
  installRetries: '2',
  abortFailedPercent: '20',
};

type Built = { ok: true; request: CreateRollout } | { ok: false; problem: string };

/** A number from a form field; '' is "not given". */
function numberField(
  value: string,
  what: string,
): { ok: true; value: number | undefined } | { ok: false; problem: string } {
  if (value.trim() === '') return { ok: true, value: undefined };
  const parsed = Number(value);
  return Number.isFinite(parsed)
    ? { ok: true, value: parsed }
    : { ok: false, problem: `${what}: "${value}" is not a number` };
}

/**
 * The API request of the form, or what is wrong with it (the API checks everything again and names the field;
 * this only catches what cannot be sent at all).
 */
export function buildRolloutRequest(form: RolloutForm): Built {
  const at = form.model.lastIndexOf('@');
  if (at <= 0) return { ok: false, problem: 'pick a model version' };
  const fields: Record<string, number | undefined> = {};
  const numeric: Array<[keyof RolloutForm, string]> = [
    ['fpsMin', 'minimum FPS'],
    ['fpsMinPercentOfPrevious', 'FPS % of previous'],
    ['accuracyTolerance', 'accuracy tolerance'],
    ['warmupFrames', 'warm-up frames'],
    ['measureFrames', 'measured frames'],
    ['maxConcurrentInstalls', 'concurrent installs'],
    ['installTimeoutSeconds', 'install time-out'],
    ['installRetries', 'install retries'],
    ['abortFailedPercent', 'abort threshold'],
  ];
  for (const [key, what] of numeric) {
    const parsed = numberField(form[key] as string, what);
    if (!parsed.ok) return parsed;
    fields[key] = parsed.value;
  }
  const phases: CreateRollout['phases'] = [];
  for (const [index, phase] of form.phases.entries()) {
    const size = numberField(phase.size, `phase ${index + 1} size`);
    const soak = numberField(phase.soakSeconds, `phase ${index + 1} soak`);
    const threshold = numberField(phase.successThresholdPercent, `phase ${index + 1} success threshold`);
    if (!size.ok) return size;
    if (!soak.ok) return soak;
    if (!threshold.ok) return threshold;
    if (size.value === undefined) return { ok: false, problem: `phase ${index + 1}: give its size` };
    phases.push({
      ...(phase.name.trim() === '' ? {} : { name: phase.name.trim() }),
      ...(phase.unit === 'percent' ? { percent: size.value } : { count: size.value }),
      soakSeconds: soak.value ?? 0,
      successThresholdPercent: threshold.value ?? 100,
      approval: phase.approval,
    });
  }
  const fps =
    fields.fpsMin === undefined && fields.fpsMinPercentOfPrevious === undefined
      ? undefined
      : {
          ...(fields.fpsMin === undefined ? {} : { min: fields.fpsMin }),
          ...(fields.fpsMinPercentOfPrevious === undefined
            ? {}
            : { minPercentOfPrevious: fields.fpsMinPercentOfPrevious }),
        };
  return {
    ok: true,
    request: {
      name: form.name.trim() === '' ? `${form.model} rollout` : form.name.trim(),
      model: { name: form.model.slice(0, at), version: Number(form.model.slice(at + 1)) },
      variants: [],
      selector: form.selector.trim(),
      phases,
      gates: {
        ...(fps === undefined ? {} : { fps }),
        ...(fields.accuracyTolerance === undefined
          ? {}
          : { accuracy: { baseline: 'previous-model' as const, tolerance: fields.accuracyTolerance } }),
        warmupFrames: fields.warmupFrames ?? 5,
        measureFrames: fields.measureFrames ?? 30,
        crashLoopRestarts: 3,
      },
      abortCriteria:
        fields.abortFailedPercent === undefined
          ? []
          : [{ failureType: 'any', thresholdPercent: fields.abortFailedPercent, minExecuted: 1 }],
      maxConcurrentInstalls: fields.maxConcurrentInstalls ?? 10,
      installTimeoutSeconds: fields.installTimeoutSeconds ?? 1800,
      installRetries: fields.installRetries ?? 2,
      includeNewDevices: false,
      canaryDevices: [],
    },
  };
}

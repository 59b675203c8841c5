import { type RolloutEventView } from './rollout-event-stream';
import { formatTable } from './text-table';

interface ModelRef {
  modelId: string;
  version: string;
}

/** A rollout as `GET /rollouts` lists it. */
export interface RolloutSummaryView {
  id: string;
  name: string;
  state: string;
  stateReason: string | null;
  model: ModelRef & { modelVersionId: string };
  selector: string;
  currentPhase: number;
  phases: number;
  devices: Record<string, number>;
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
}

/** A rollout as `GET /rollouts/:id` and the operator actions answer it. */
export interface RolloutDetailView extends RolloutSummaryView {
  phaseDetails: Array<{
    phase: number;
    name: string;
    count: number | null;
    percent: number | null;
    successThresholdPercent: number;
    soakSeconds: number;
    approval: 'automatic' | 'manual';
    state: string;
  }>;
  targets: Array<{
    deviceId: string;
    state: string;
    phase: number | null;
    attempts: number;
    model: ModelRef;
    failure: { type: string; reason: string } | null;
  }>;
}

/** The answer of `POST /rollouts/preview`. */
export interface RolloutPreviewView {
  targets: number;
  online: number;
  phases: Array<{ index: number; name: string; cumulative: number; deviceIds: string[] }>;
  deferred: string[];
  devices: Array<{
    deviceId: string;
    position: number;
    online: boolean;
    currentModel: ModelRef | null;
    model: ModelRef;
  }>;
}

/** The states a rollout does not leave (an abort of a completed rollout aside). */
export const FINAL_ROLLOUT_STATES: ReadonlySet<string> = new Set(['completed', 'aborted', 'canceled']);

/** The states in which a device's part in a rollout is over. */
const SETTLED_DEVICE_STATES: ReadonlySet<string> = new Set([
  'healthy',
  'rolled-back',
  'rollback-failed',
  'skipped',
]);

export const isSettledDeviceState = (state: string): boolean => SETTLED_DEVICE_STATES.has(state);

const modelText = (model: ModelRef): string => `${model.modelId}@${model.version}`;

/** `3 healthy, 1 installing`, in the order of the device lifecycle. */
export function deviceCounts(devices: Record<string, number>): string {
  const order = [
    'pending',
    'installing',
    'soaking',
    'healthy',
    'failed',
    'rolling-back',
    'rolled-back',
    'rollback-failed',
    'skipped',
  ];
  const entries = Object.entries(devices)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  return entries.length === 0
    ? 'no devices'
    : entries.map(([state, count]) => `${count} ${state}`).join(', ');
}

function formatSeconds(seconds: number): string {
  if (seconds === 0) return '-';
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

export function renderRolloutList(items: readonly RolloutSummaryView[]): string {
  return formatTable(
    ['ID', 'STATE', 'PHASE', 'MODEL', 'DEVICES', 'NAME'],
    items.map((item) => [
      item.id,
      item.state,
      `${item.currentPhase}/${item.phases}`,
      modelText(item.model),
      deviceCounts(item.devices),
      item.name,
    ]),
  );
}

/** The rollout, its phases with their devices by state, and the failed devices with the reasons. */
export function renderRolloutDetail(rollout: RolloutDetailView): string {
  const lines = [
    `rollout ${rollout.id} "${rollout.name}": ${rollout.state}` +
      (rollout.stateReason === null ? '' : ` (${rollout.stateReason})`),
    `model ${modelText(rollout.model)}, selector ${rollout.selector === '' ? '(every device)' : rollout.selector}, ` +
      `phase ${rollout.currentPhase}/${rollout.phases}, created ${rollout.createdAt} by ${rollout.createdBy}` +
      (rollout.finishedAt === null ? '' : `, finished ${rollout.finishedAt}`),
    `devices: ${deviceCounts(rollout.devices)}`,
    '',
  ];
  const byPhase = new Map<number | null, Record<string, number>>();
  for (const target of rollout.targets) {
    const counts = byPhase.get(target.phase) ?? {};
    counts[target.state] = (counts[target.state] ?? 0) + 1;
    byPhase.set(target.phase, counts);
  }
  const phaseRows = rollout.phaseDetails.map((phase) => [
    String(phase.phase),
    phase.name,
    phase.count === null ? `${phase.percent ?? 0}%` : String(phase.count),
    formatSeconds(phase.soakSeconds),
    phase.approval,
    phase.state,
    deviceCounts(byPhase.get(phase.phase) ?? {}),
  ]);
  const notStarted = byPhase.get(null);
  if (notStarted !== undefined)
    phaseRows.push(['-', 'not started', '', '', '', '', deviceCounts(notStarted)]);
  let text =
    lines.join('\n') +
    '\n' +
    formatTable(['PHASE', 'NAME', 'UP TO', 'SOAK', 'APPROVAL', 'STATE', 'DEVICES'], phaseRows);
  const failures = rollout.targets.filter((target) => target.failure !== null);
  if (failures.length > 0) {
    text +=
      '\nfailures:\n' +
      formatTable(
        ['DEVICE', 'PHASE', 'TYPE', 'NOW', 'REASON'],
        failures.map((target) => [
          target.deviceId,
          String(target.phase ?? '-'),
          target.failure?.type ?? '',
          target.state,
          target.failure?.reason ?? '',
        ]),
      );
  }
  return text;
}

/** The targets in their order with the phase (from 1, as `show` counts) each would start in now, then the phases. */
export function renderRolloutPreview(preview: RolloutPreviewView): string {
  const phaseOf = new Map<string, string>();
  for (const phase of preview.phases)
    for (const deviceId of phase.deviceIds) phaseOf.set(deviceId, String(phase.index + 1));
  const devices = formatTable(
    ['#', 'DEVICE', 'PHASE', 'ONLINE', 'CURRENT', 'NEW'],
    [...preview.devices]
      .sort((a, b) => a.position - b.position)
      .map((device) => [
        String(device.position + 1),
        device.deviceId,
        phaseOf.get(device.deviceId) ?? (device.online ? '-' : 'when online'),
        device.online ? 'yes' : 'no',
        device.currentModel === null ? '-' : modelText(device.currentModel),
        modelText(device.model),
      ]),
  );
  const phases = formatTable(
    ['PHASE', 'NAME', 'STARTS', 'STARTED AFTER IT'],
    preview.phases.map((phase) => [
      String(phase.index + 1),
      phase.name,
      String(phase.deviceIds.length),
      String(phase.cumulative),
    ]),
  );
  const deferred =
    preview.deferred.length === 0
      ? ''
      : `\n${preview.deferred.length} offline device(s) start when they come back, in the phase under way then\n`;
  return `${preview.targets} target(s), ${preview.online} online\n\n${devices}\n${phases}${deferred}`;
}

/** One line per transition: `<time> rollout running → paused (paused by token:alice: reason)`. */
export function renderRolloutEvent(event: RolloutEventView): string {
  const subject =
    event.type === 'rollout'
      ? 'rollout'
      : event.type === 'phase'
        ? `phase ${event.phase ?? '?'}`
        : `device ${event.deviceId ?? '?'}${event.phase === null ? '' : ` (phase ${event.phase})`}`;
  const change = event.from === null ? event.to : `${event.from} → ${event.to}`;
  return `${event.at} ${subject} ${change}${event.reason === null ? '' : ` (${event.reason})`}`;
}

import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import {
  type RolloutModelRef,
  type RolloutPhaseRow,
  type RolloutRow,
  type RolloutTargetRow,
} from '../database/schema';
import { parseCapabilityRequirements } from '../devices/capability-requirements';
import { parseTagSelector, type TagRequirement } from '../devices/tag-selector';
import { ModelsRepository } from '../models/models.repository';
import { type OperatorAction, operatorAction, RolloutTransitionError } from './operator-action';
import { orderDevices, planPhases } from './phase-plan';
import { type StepEvent } from './rollout-draft';
import { RolloutEventsRepository, toRolloutEventDto } from './rollout-events.repository';
import { modelForDevice, storedSelector, type VariantRule } from './rollout-targeting';
import { RolloutTriggers } from './rollout-triggers';
import {
  type RolloutDetailDto,
  type RolloutEventListDto,
  type RolloutEventQueryDto,
  type RolloutListDto,
  type RolloutListQueryDto,
  type RolloutPreviewDto,
  type CreateRolloutInput,
} from './rollouts.dto';
import { type AuditActor, type CandidateDevice, RolloutsRepository } from './rollouts.repository';

/** Who calls, for the audit log and the events (`token:<name>`). */
export interface RolloutCaller {
  audit: AuditActor;
  actor: string;
}

/** A rollout request checked against the registry: its models, its devices in order, each device's model. */
interface ResolvedRollout {
  model: RolloutModelRef;
  variants: Array<{ capability: string; model: RolloutModelRef }>;
  selector: TagRequirement[];
  devices: CandidateDevice[];
  order: string[];
  models: Map<string, RolloutModelRef>;
  orderSeed: string;
}

/** Creating, previewing, reading and steering rollouts (the engine runs them: `RolloutEngine`). */
@Injectable()
export class RolloutsService {
  constructor(
    private readonly repository: RolloutsRepository,
    private readonly events: RolloutEventsRepository,
    private readonly models: ModelsRepository,
    private readonly triggers: RolloutTriggers,
  ) {}

  /** The targets, their order and which online device each phase would start now. Changes nothing. */
  async preview(body: CreateRolloutInput): Promise<RolloutPreviewDto> {
    const resolved = await this.resolve(body);
    const byId = new Map(resolved.devices.map((device) => [device.id, device]));
    const ordered = resolved.order.map((id) => ({ deviceId: id, online: byId.get(id)?.online ?? false }));
    const plan = planPhases(ordered, body.phases.map(phaseSize));
    return {
      targets: ordered.length,
      online: ordered.filter((device) => device.online).length,
      phases: plan.phases.map((phase) => ({
        ...phase,
        name: body.phases[phase.index]?.name ?? defaultPhaseName(phase.index),
      })),
      deferred: plan.deferred,
      devices: resolved.order.map((deviceId, position) => ({
        deviceId,
        position,
        online: byId.get(deviceId)?.online ?? false,
        currentModel: byId.get(deviceId)?.currentModel ?? null,
        model: resolved.models.get(deviceId) ?? resolved.model,
      })),
    };
  }

  async create(body: CreateRolloutInput, caller: RolloutCaller): Promise<RolloutDetailDto> {
    const resolved = await this.resolve(body);
    const id = randomUUID();
    const manualStart = body.phases[0]?.approval === 'manual';
    const events: StepEvent[] = [
      event('rollout', null, manualStart ? 'awaiting-approval' : 'running', caller.actor, 'created', {
        targets: resolved.order.length,
        model: resolved.model,
      }),
    ];
    if (manualStart)
      events.push(event('phase', 0, 'awaiting-approval', caller.actor, 'phase 1 waits for approval'));
    const created = await this.repository.create(
      {
        rollout: {
          id,
          name: body.name,
          state: manualStart ? 'awaiting-approval' : 'running',
          stateReason: manualStart ? "phase 1 waits for an operator's approval" : null,
          model: resolved.model,
          modelVersionId: resolved.model.modelVersionId,
          variants: resolved.variants,
          selector: body.selector.trim(),
          gates: {
            fps:
              body.gates.fps === undefined
                ? null
                : {
                    min: body.gates.fps.min ?? null,
                    minPercentOfPrevious: body.gates.fps.minPercentOfPrevious ?? null,
                  },
            accuracy: body.gates.accuracy ?? null,
            warmupFrames: body.gates.warmupFrames,
            measureFrames: body.gates.measureFrames,
            crashLoopRestarts: body.gates.crashLoopRestarts,
          },
          abortCriteria: body.abortCriteria,
          maxConcurrentInstalls: body.maxConcurrentInstalls,
          installTimeoutSeconds: body.installTimeoutSeconds,
          installRetries: body.installRetries,
          acceptsNewDevices: body.includeNewDevices,
          canaryDevices: body.canaryDevices,
          orderSeed: resolved.orderSeed,
          createdBy: caller.actor,
        },
        phases: body.phases.map((phase, index) => ({
          index,
          name: phase.name ?? defaultPhaseName(index),
          count: phase.count ?? null,
          percent: phase.percent ?? null,
          successThresholdPercent: phase.successThresholdPercent,
          soakSeconds: phase.soakSeconds,
          approval: phase.approval,
          state: index === 0 && manualStart ? 'awaiting-approval' : 'pending',
        })),
        targets: resolved.order.map((deviceId, position) => ({
          deviceId,
          position,
          state: 'pending',
          model: resolved.models.get(deviceId) ?? resolved.model,
        })),
        events,
      },
      caller.audit,
    );
    if (!created.ok) {
      const first = created.conflicts[0];
      throw new ConflictException(
        `${created.conflicts.length > 1 ? `${created.conflicts.length} devices are` : 'a device is'} part of ` +
          `another rollout: ${created.conflicts
            .slice(0, 10)
            .map((conflict) => `${conflict.deviceId} in "${conflict.rolloutName}" (${conflict.rolloutId})`)
            .join(', ')}${first === undefined ? '' : '; finish, cancel or abort it first'}`,
      );
    }
    await this.triggers.advance(id);
    return this.get(id);
  }

  async list(query: RolloutListQueryDto): Promise<RolloutListDto> {
    const rows = await this.repository.list({
      state: query.state,
      beforeSeq: query.cursor === undefined ? undefined : Number(query.cursor),
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(({ rollout, counts, phases }) => summaryOf(rollout, counts, phases)),
      nextCursor: rows.length > query.limit && last ? String(last.rollout.seq) : null,
    };
  }

  async get(rolloutId: string): Promise<RolloutDetailDto> {
    const detail = await this.repository.detail(rolloutId);
    if (detail === undefined) throw new NotFoundException(`no rollout with id ${JSON.stringify(rolloutId)}`);
    const counts: Record<string, number> = {};
    for (const target of detail.targets) counts[target.state] = (counts[target.state] ?? 0) + 1;
    const { rollout } = detail;
    return {
      ...summaryOf(rollout, counts, detail.phases.length),
      variants: rollout.variants,
      gates: rollout.gates,
      abortCriteria: rollout.abortCriteria,
      maxConcurrentInstalls: rollout.maxConcurrentInstalls,
      installTimeoutSeconds: rollout.installTimeoutSeconds,
      installRetries: rollout.installRetries,
      canaryDevices: rollout.canaryDevices,
      orderSeed: rollout.orderSeed,
      phaseDetails: detail.phases.map(phaseDto),
      targets: detail.targets.map(targetDto),
    };
  }

  /** An operator's action, as a step under the rollout's row lock; then the engine takes the next step. */
  async act(
    rolloutId: string,
    action: OperatorAction,
    caller: RolloutCaller,
    reason: string | undefined,
  ): Promise<RolloutDetailDto> {
    const now = new Date();
    try {
      const done = await this.repository.withLockedRollout(rolloutId, async (tx, rollout) => {
        const snapshot = await this.repository.snapshot(tx, rollout, storedSelector(rollout.selector));
        const step = operatorAction(snapshot, action, caller.actor, now, reason);
        await this.repository.applyStep(tx, rollout.id, step, caller.audit);
        return true;
      });
      if (done === undefined) throw new NotFoundException(`no rollout with id ${JSON.stringify(rolloutId)}`);
    } catch (error) {
      if (error instanceof RolloutTransitionError) throw new ConflictException(error.message);
      throw error;
    }
    await this.triggers.advance(rolloutId);
    return this.get(rolloutId);
  }

  async listEvents(query: RolloutEventQueryDto): Promise<RolloutEventListDto> {
    const rows = await this.events.page({
      rolloutId: query.rollout,
      afterId: query.after === undefined ? undefined : Number(query.after),
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toRolloutEventDto),
      nextCursor: rows.length > query.limit && last ? String(last.id) : null,
    };
  }

  /** Checks a request against the registry: selector, models (ready), variants, canaries; orders the targets. */
  private async resolve(body: CreateRolloutInput): Promise<ResolvedRollout> {
    let selector: TagRequirement[] = [];
    if (body.selector.trim() !== '') {
      const parsed = parseTagSelector(body.selector);
      if (!parsed.ok) throw new BadRequestException(`selector: ${parsed.problem}`);
      selector = parsed.requirements;
    }
    const model = await this.readyModel('model', body.model);
    const rules: VariantRule[] = [];
    for (const [index, variant] of body.variants.entries()) {
      const requirements = parseCapabilityRequirements(variant.capability);
      if (!requirements.ok)
        throw new BadRequestException(`variants.${index}.capability: ${requirements.problem}`);
      rules.push({
        requirements: requirements.requirements,
        model: await this.readyModel(`variants.${index}.model`, variant.model),
      });
    }
    const devices = await this.repository.matchingDevices(selector);
    if (devices.length === 0) {
      throw new UnprocessableEntityException(
        `selector: ${body.selector.trim() === '' ? 'there is no device in service' : `"${body.selector}" matches no device in service`}`,
      );
    }
    const ids = new Set(devices.map((device) => device.id));
    const strangers = body.canaryDevices.filter((id) => !ids.has(id));
    if (strangers.length > 0) {
      throw new UnprocessableEntityException(
        `canaryDevices: ${strangers.join(', ')} ${strangers.length === 1 ? 'is' : 'are'} not among the targets of the selector`,
      );
    }
    const orderSeed = body.orderSeed ?? model.modelVersionId;
    return {
      model,
      variants: body.variants.map((variant, index) => ({
        capability: variant.capability,
        model: rules[index]?.model ?? model,
      })),
      selector,
      devices,
      order: orderDevices([...ids], body.canaryDevices, orderSeed),
      models: new Map(
        devices.map((device) => [device.id, modelForDevice(device.capabilities, model, rules)]),
      ),
      orderSeed,
    };
  }

  private async readyModel(field: string, ref: { name: string; version: number }): Promise<RolloutModelRef> {
    const version = await this.models.findVersion(ref.name, ref.version);
    if (version === undefined)
      throw new UnprocessableEntityException(`${field}: model "${ref.name}" has no version ${ref.version}`);
    if (version.status !== 'ready') {
      throw new UnprocessableEntityException(
        `${field}: ${ref.name}@${ref.version} is ${version.status}, not ready` +
          (version.statusReason ? ` (${version.statusReason})` : ''),
      );
    }
    return { modelId: version.modelName, version: String(version.version), modelVersionId: version.id };
  }
}

const phaseSize = (phase: { count?: number; percent?: number }) => ({
  count: phase.count ?? null,
  percent: phase.percent ?? null,
});

const defaultPhaseName = (index: number): string => (index === 0 ? 'canary' : `phase ${index + 1}`);

function event(
  scope: StepEvent['scope'],
  phaseIndex: number | null,
  toState: string,
  actor: string,
  reason: string,
  details: Record<string, unknown> | null = null,
): StepEvent {
  return { scope, phaseIndex, deviceId: null, fromState: null, toState, reason, details, actor };
}

function summaryOf(
  rollout: RolloutRow,
  counts: Record<string, number>,
  phases: number,
): RolloutListDto['items'][number] {
  return {
    id: rollout.id,
    name: rollout.name,
    state: rollout.state,
    stateReason: rollout.stateReason,
    model: rollout.model,
    selector: rollout.selector,
    currentPhase: rollout.currentPhase + 1,
    phases,
    acceptsNewDevices: rollout.acceptsNewDevices,
    devices: counts,
    createdBy: rollout.createdBy,
    createdAt: rollout.createdAt.toISOString(),
    updatedAt: rollout.updatedAt.toISOString(),
    finishedAt: rollout.finishedAt?.toISOString() ?? null,
  };
}

function phaseDto(phase: RolloutPhaseRow): RolloutDetailDto['phaseDetails'][number] {
  return {
    phase: phase.index + 1,
    name: phase.name,
    count: phase.count,
    percent: phase.percent,
    successThresholdPercent: phase.successThresholdPercent,
    soakSeconds: phase.soakSeconds,
    approval: phase.approval,
    state: phase.state,
    startedAt: phase.startedAt?.toISOString() ?? null,
    completedAt: phase.completedAt?.toISOString() ?? null,
    approvedBy: phase.approvedBy,
  };
}

function targetDto(target: RolloutTargetRow): RolloutDetailDto['targets'][number] {
  return {
    deviceId: target.deviceId,
    position: target.position,
    state: target.state,
    phase: target.phaseIndex === null ? null : target.phaseIndex + 1,
    attempts: target.attempts,
    model: target.model,
    previousModel: target.previous?.model ?? null,
    gate: target.gate,
    jobId: target.jobId,
    jobStatus: target.jobStatus,
    step: target.jobDetails?.step ?? null,
    measuredFps: target.measuredFps,
    measuredAccuracy: target.measuredAccuracy,
    failure:
      target.failureType === null ? null : { type: target.failureType, reason: target.failureReason ?? '' },
    rollbackJobId: target.rollbackJobId,
    startedAt: target.startedAt?.toISOString() ?? null,
    soakUntil: target.soakUntil?.toISOString() ?? null,
    finishedAt: target.finishedAt?.toISOString() ?? null,
  };
}

import { Injectable } from '@nestjs/common';
import { and, asc, desc, eq, inArray, isNull, lt, ne, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { type Database, type Transaction } from '../database/database-connection';
import { rowsOf } from '../database/rows-of';
import {
  auditLog,
  devices,
  type RolloutPhaseRow,
  rolloutEvents,
  rolloutPhases,
  type RolloutRow,
  type RolloutState,
  rollouts,
  type RolloutTargetRow,
  rolloutTargets,
  type TargetState,
} from '../database/schema';
import { tagCondition } from '../devices/devices.repository';
import { type TagRequirement } from '../devices/tag-selector';
import { type RolloutStep, type StepEvent } from './rollout-draft';
import { type RolloutSnapshot, type SnapshotDevice, type SnapshotTarget } from './rollout-snapshot';
import { writeTargetPatches } from './target-patch-writes';

/** Rollout states in which a rollout owns its devices: another rollout may not take them. */
export const IN_PROGRESS_STATES: readonly RolloutState[] = ['running', 'awaiting-approval', 'paused'];
/** Target states in which something is under way on the device. */
export const IN_FLIGHT_TARGET_STATES: readonly TargetState[] = ['installing', 'soaking', 'rolling-back'];

/** Who caused a transition, as the audit log records it (null token: the engine itself). */
export interface AuditActor {
  tokenId: string | null;
  name: string;
  role: string | null;
}

/** A device as rollouts select and order it. */
export interface CandidateDevice {
  id: string;
  tags: Record<string, string>;
  capabilities: Record<string, unknown> | null;
  online: boolean;
  currentModel: { modelId: string; version: string } | null;
}

export interface NewRollout {
  rollout: Omit<typeof rollouts.$inferInsert, 'seq'>;
  phases: Array<Omit<typeof rolloutPhases.$inferInsert, 'rolloutId'>>;
  targets: Array<Omit<typeof rolloutTargets.$inferInsert, 'rolloutId'>>;
  events: StepEvent[];
}

/** Another rollout holding one of the devices. */
export interface RolloutConflict {
  rolloutId: string;
  rolloutName: string;
  deviceId: string;
}

export interface RolloutDetailRows {
  rollout: RolloutRow;
  phases: RolloutPhaseRow[];
  targets: RolloutTargetRow[];
}

const IN_SERVICE = isNull(devices.decommissionedAt);

/**
 * Rollouts, their phases and targets: creation, the locked read-step-write cycle of the engine and of operator
 * actions, and the reads of the API. Every transition writes its rollout event and audit entry in the same
 * transaction as the state it describes.
 */
@Injectable()
export class RolloutsRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /** Devices in service matching the selector, by id. */
  matchingDevices(requirements: readonly TagRequirement[]): Promise<CandidateDevice[]> {
    return this.database.db
      .select({
        id: devices.id,
        tags: devices.tags,
        capabilities: devices.capabilities,
        online: devices.online,
        currentModel: devices.currentModel,
      })
      .from(devices)
      .where(and(IN_SERVICE, ...requirements.map(tagCondition)))
      .orderBy(asc(devices.id));
  }

  /** Devices of `deviceIds` another rollout holds (in progress, or with something under way on the device). */
  conflicts(deviceIds: readonly string[], executor: Pick<Database, 'select'> = this.database.db) {
    if (deviceIds.length === 0) return Promise.resolve<RolloutConflict[]>([]);
    return executor
      .select({ rolloutId: rollouts.id, rolloutName: rollouts.name, deviceId: rolloutTargets.deviceId })
      .from(rolloutTargets)
      .innerJoin(rollouts, eq(rollouts.id, rolloutTargets.rolloutId))
      .where(
        and(
          inArray(rolloutTargets.deviceId, [...deviceIds]),
          or(
            and(inArray(rollouts.state, [...IN_PROGRESS_STATES]), ne(rolloutTargets.state, 'skipped')),
            inArray(rolloutTargets.state, [...IN_FLIGHT_TARGET_STATES]),
          ),
        ),
      )
      .orderBy(asc(rolloutTargets.deviceId))
      .limit(50);
  }

  /**
   * Creates the rollout unless another one holds one of its devices (checked under a lock that serialises
   * rollout creation, so two concurrent creations cannot both take a device). Older rollouts that still catch
   * up or accept new devices give up the devices of the new one (their pending targets are skipped, and they
   * stop accepting new devices).
   */
  async create(
    rollout: NewRollout,
    actor: AuditActor,
  ): Promise<{ ok: true } | { ok: false; conflicts: RolloutConflict[] }> {
    return this.database.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('emofleet:rollouts:create'))`);
      const deviceIds = rollout.targets.map((target) => target.deviceId);
      const conflicts = await this.conflicts(deviceIds, tx);
      if (conflicts.length > 0) return { ok: false as const, conflicts };
      await tx.insert(rollouts).values(rollout.rollout);
      const id = rollout.rollout.id;
      await tx.insert(rolloutPhases).values(rollout.phases.map((phase) => ({ ...phase, rolloutId: id })));
      for (let start = 0; start < rollout.targets.length; start += 1000) {
        await tx
          .insert(rolloutTargets)
          .values(rollout.targets.slice(start, start + 1000).map((target) => ({ ...target, rolloutId: id })));
      }
      await this.writeEvents(tx, id, rollout.events, actor);
      await this.supersede(tx, id, deviceIds, actor);
      return { ok: true as const };
    });
  }

  /** Older rollouts give up `deviceIds` to rollout `newId`. */
  private async supersede(
    tx: Transaction,
    newId: string,
    deviceIds: readonly string[],
    actor: AuditActor,
  ): Promise<void> {
    if (deviceIds.length === 0) return;
    const reason = `superseded by rollout ${newId}`;
    const skipped = await tx
      .update(rolloutTargets)
      .set({ state: 'skipped', finishedAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          ne(rolloutTargets.rolloutId, newId),
          eq(rolloutTargets.state, 'pending'),
          inArray(rolloutTargets.deviceId, [...deviceIds]),
        ),
      )
      .returning({ rolloutId: rolloutTargets.rolloutId, deviceId: rolloutTargets.deviceId });
    for (const row of skipped) {
      await this.writeEvents(
        tx,
        row.rolloutId,
        [deviceEvent(row.deviceId, 'pending', 'skipped', reason, actor.name)],
        actor,
      );
    }
    const holders = await tx
      .selectDistinct({ id: rolloutTargets.rolloutId })
      .from(rolloutTargets)
      .innerJoin(rollouts, eq(rollouts.id, rolloutTargets.rolloutId))
      .where(
        and(
          ne(rolloutTargets.rolloutId, newId),
          eq(rollouts.acceptsNewDevices, true),
          inArray(rolloutTargets.deviceId, [...deviceIds]),
        ),
      );
    if (holders.length === 0) return;
    await tx
      .update(rollouts)
      .set({ acceptsNewDevices: false, updatedAt: sql`now()` })
      .where(
        inArray(
          rollouts.id,
          holders.map((holder) => holder.id),
        ),
      );
  }

  /**
   * Runs `work` in a transaction holding the rollout's row lock (`select … for update`): steps of one rollout
   * never interleave, whichever replica runs them. Undefined when the rollout does not exist.
   */
  async withLockedRollout<T>(
    rolloutId: string,
    work: (tx: Transaction, rollout: RolloutRow) => Promise<T>,
  ): Promise<T | undefined> {
    return this.database.db.transaction(async (tx) => {
      const [row] = await tx.select().from(rollouts).where(eq(rollouts.id, rolloutId)).for('update');
      return row === undefined ? undefined : work(tx, row);
    });
  }

  /** The rollout as the engine steps it, read in the locking transaction. */
  async snapshot(tx: Transaction, rollout: RolloutRow, selector: TagRequirement[]): Promise<RolloutSnapshot> {
    const phases = await tx
      .select()
      .from(rolloutPhases)
      .where(eq(rolloutPhases.rolloutId, rollout.id))
      .orderBy(asc(rolloutPhases.index));
    const rows = await tx
      .select({
        target: rolloutTargets,
        device: {
          id: devices.id,
          decommissionedAt: devices.decommissionedAt,
          online: devices.online,
          tags: devices.tags,
          sessionSeq: devices.sessionSeq,
          currentModel: devices.currentModel,
          lastTelemetry: devices.lastTelemetry,
          lastTelemetryAt: devices.lastTelemetryAt,
        },
      })
      .from(rolloutTargets)
      .leftJoin(devices, eq(devices.id, rolloutTargets.deviceId))
      .where(eq(rolloutTargets.rolloutId, rollout.id))
      .orderBy(asc(rolloutTargets.position));
    return {
      rollout: {
        id: rollout.id,
        state: rollout.state,
        stateReason: rollout.stateReason,
        resumeState: rollout.resumeState,
        currentPhase: rollout.currentPhase,
        selector,
        abortCriteria: rollout.abortCriteria,
        maxConcurrentInstalls: rollout.maxConcurrentInstalls,
        installTimeoutSeconds: rollout.installTimeoutSeconds,
        installRetries: rollout.installRetries,
        crashLoopRestarts: rollout.gates.crashLoopRestarts,
        acceptsNewDevices: rollout.acceptsNewDevices,
      },
      phases: phases.map((phase) => ({
        index: phase.index,
        name: phase.name,
        count: phase.count,
        percent: phase.percent,
        successThresholdPercent: phase.successThresholdPercent,
        soakSeconds: phase.soakSeconds,
        approval: phase.approval,
        state: phase.state,
      })),
      targets: rows.map(({ target, device }) => toSnapshotTarget(target, device)),
    };
  }

  /** Writes a step: the patches, then its events and audit entries. */
  async applyStep(tx: Transaction, rolloutId: string, step: RolloutStep, actor: AuditActor): Promise<void> {
    const rolloutPatch = step.rollout;
    if (Object.keys(rolloutPatch).length > 0) {
      await tx
        .update(rollouts)
        .set({ ...rolloutPatch, updatedAt: sql`now()` })
        .where(eq(rollouts.id, rolloutId));
    }
    for (const [index, patch] of step.phases) {
      await tx
        .update(rolloutPhases)
        .set(patch)
        .where(and(eq(rolloutPhases.rolloutId, rolloutId), eq(rolloutPhases.index, index)));
    }
    await writeTargetPatches(tx, rolloutId, step.targets);
    await this.writeEvents(tx, rolloutId, step.events, actor);
  }

  /**
   * Adds devices that came to match a rollout accepting new devices: in service, matching, not yet targets,
   * and not held by another rollout that is in progress, has something under way on them, or is newer.
   */
  async newlyMatchingDevices(
    tx: Transaction,
    rollout: RolloutRow,
    selector: readonly TagRequirement[],
  ): Promise<CandidateDevice[]> {
    const heldElsewhere = sql`exists (
      select 1 from ${rolloutTargets} t join ${rollouts} r on r.id = t.rollout_id
      where t.device_id = ${devices.id} and r.id <> ${rollout.id}
        and (r.created_at > ${rollout.createdAt.toISOString()}::timestamptz
          or r.state in ('running', 'awaiting-approval', 'paused')
          or t.state in ('installing', 'soaking', 'rolling-back')))`;
    const alreadyTarget = sql`exists (
      select 1 from ${rolloutTargets} t where t.rollout_id = ${rollout.id} and t.device_id = ${devices.id})`;
    return tx
      .select({
        id: devices.id,
        tags: devices.tags,
        capabilities: devices.capabilities,
        online: devices.online,
        currentModel: devices.currentModel,
      })
      .from(devices)
      .where(
        and(IN_SERVICE, ...selector.map(tagCondition), sql`not ${alreadyTarget}`, sql`not ${heldElsewhere}`),
      )
      .orderBy(asc(devices.id))
      .limit(1000);
  }

  /** Other rollouts accepting new devices that were created after `rollout` (their selectors win). */
  newerAcceptingRollouts(
    tx: Transaction,
    rollout: RolloutRow,
  ): Promise<Array<{ id: string; selector: string }>> {
    return tx
      .select({ id: rollouts.id, selector: rollouts.selector })
      .from(rollouts)
      .where(
        and(
          eq(rollouts.acceptsNewDevices, true),
          ne(rollouts.id, rollout.id),
          sql`${rollouts.createdAt} > ${rollout.createdAt.toISOString()}::timestamptz`,
          notInArray(rollouts.state, ['aborted', 'canceled']),
        ),
      );
  }

  async addTargets(
    tx: Transaction,
    rolloutId: string,
    targets: Array<Omit<typeof rolloutTargets.$inferInsert, 'rolloutId'>>,
    actor: AuditActor,
  ): Promise<void> {
    if (targets.length === 0) return;
    const [last] = await tx
      .select({ position: rolloutTargets.position })
      .from(rolloutTargets)
      .where(eq(rolloutTargets.rolloutId, rolloutId))
      .orderBy(desc(rolloutTargets.position))
      .limit(1);
    const first = (last?.position ?? -1) + 1;
    await tx
      .insert(rolloutTargets)
      .values(targets.map((target, index) => ({ ...target, rolloutId, position: first + index })))
      .onConflictDoNothing();
    await this.writeEvents(
      tx,
      rolloutId,
      targets.map((target) =>
        deviceEvent(target.deviceId, null, 'pending', 'the device came to match the selector', actor.name),
      ),
      actor,
    );
  }

  find(rolloutId: string): Promise<RolloutRow | undefined> {
    return this.database.db
      .select()
      .from(rollouts)
      .where(eq(rollouts.id, rolloutId))
      .then((rows) => rows[0]);
  }

  async detail(rolloutId: string): Promise<RolloutDetailRows | undefined> {
    const rollout = await this.find(rolloutId);
    if (rollout === undefined) return undefined;
    const [phases, targets] = await Promise.all([
      this.database.db
        .select()
        .from(rolloutPhases)
        .where(eq(rolloutPhases.rolloutId, rolloutId))
        .orderBy(asc(rolloutPhases.index)),
      this.database.db
        .select()
        .from(rolloutTargets)
        .where(eq(rolloutTargets.rolloutId, rolloutId))
        .orderBy(asc(rolloutTargets.position)),
    ]);
    return { rollout, phases, targets };
  }

  /** Rollouts newest first, before creation number `beforeSeq`, with their device counts by state. */
  async list(query: {
    state?: RolloutState;
    beforeSeq?: number;
    limit: number;
  }): Promise<Array<{ rollout: RolloutRow; counts: Record<string, number>; phases: number }>> {
    const conditions: SQL[] = [];
    if (query.state !== undefined) conditions.push(eq(rollouts.state, query.state));
    if (query.beforeSeq !== undefined) conditions.push(lt(rollouts.seq, query.beforeSeq));
    const rows = await this.database.db
      .select({
        rollout: rollouts,
        phases: sql<number>`(select count(*) from ${rolloutPhases} p where p.rollout_id = ${rollouts.id})::int`,
      })
      .from(rollouts)
      .where(conditions.length > 0 ? and(...conditions) : undefined)
      .orderBy(desc(rollouts.seq))
      .limit(query.limit);
    const counts = await this.targetCounts(rows.map((row) => row.rollout.id));
    return rows.map(({ rollout, phases }) => ({
      rollout,
      counts: counts.get(rollout.id) ?? {},
      phases: Number(phases),
    }));
  }

  /** Target counts by state for each rollout. */
  async targetCounts(rolloutIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
    const counts = new Map<string, Record<string, number>>();
    if (rolloutIds.length === 0) return counts;
    const rows = await this.database.db
      .select({
        rolloutId: rolloutTargets.rolloutId,
        state: rolloutTargets.state,
        count: sql<number>`count(*)::int`,
      })
      .from(rolloutTargets)
      .where(inArray(rolloutTargets.rolloutId, [...rolloutIds]))
      .groupBy(rolloutTargets.rolloutId, rolloutTargets.state);
    for (const row of rows) {
      const entry = counts.get(row.rolloutId) ?? {};
      entry[row.state] = Number(row.count);
      counts.set(row.rolloutId, entry);
    }
    return counts;
  }

  /**
   * Rollouts the engine must keep stepping: in progress, or with devices under way, or completed and still
   * catching up devices or accepting new ones.
   */
  async liveRolloutIds(): Promise<string[]> {
    const rows = await this.database.db
      .select({ id: rollouts.id })
      .from(rollouts)
      .where(
        or(
          inArray(rollouts.state, [...IN_PROGRESS_STATES]),
          and(eq(rollouts.state, 'completed'), eq(rollouts.acceptsNewDevices, true)),
          sql`exists (select 1 from ${rolloutTargets} t where t.rollout_id = ${rollouts.id}
            and (t.state in ('installing', 'soaking', 'rolling-back')
              or (t.state = 'pending' and ${rollouts.state} = 'completed')))`,
        ),
      )
      .orderBy(asc(rollouts.seq));
    return rows.map((row) => row.id);
  }

  /**
   * Per device, in order, the rollouts for which its coming online matters: it is pending or soaking there, or
   * they accept new devices. One statement for any number of devices (a connection storm brings thousands).
   */
  async rolloutsWatching(deviceIds: readonly string[]): Promise<string[][]> {
    const rows = rowsOf<{ device_id: string; rollout_id: string }>(
      await this.database.db.execute(sql`
        select distinct d.device_id, ${rollouts.id} as rollout_id
        from unnest(${sql.param(deviceIds)}::text[]) as d(device_id)
          cross join ${rollouts}
          left join ${rolloutTargets}
            on ${rolloutTargets.rolloutId} = ${rollouts.id} and ${rolloutTargets.deviceId} = d.device_id
        where ${rollouts.state} not in ('aborted', 'canceled')
          and (${rolloutTargets.state} in ('pending', 'soaking')
            or (${rollouts.acceptsNewDevices} and ${rolloutTargets.deviceId} is null))`),
    );
    const watching = new Map<string, string[]>();
    for (const row of rows)
      watching.set(row.device_id, [...(watching.get(row.device_id) ?? []), row.rollout_id]);
    return deviceIds.map((deviceId) => watching.get(deviceId) ?? []);
  }

  private async writeEvents(
    tx: Transaction,
    rolloutId: string,
    events: readonly StepEvent[],
    actor: AuditActor,
  ): Promise<void> {
    for (let start = 0; start < events.length; start += 500) {
      const chunk = events.slice(start, start + 500);
      await tx.insert(rolloutEvents).values(
        chunk.map((event) => ({
          rolloutId,
          scope: event.scope,
          phaseIndex: event.phaseIndex,
          deviceId: event.deviceId,
          fromState: event.fromState,
          toState: event.toState,
          reason: event.reason,
          details: event.details,
          actor: event.actor,
        })),
      );
      await tx.insert(auditLog).values(
        chunk.map((event) => ({
          actorTokenId: actor.tokenId,
          actorName: actor.name,
          actorRole: actor.role,
          method: 'EVENT',
          route: auditRoute(event),
          path:
            event.deviceId === null
              ? `/rollouts/${rolloutId}`
              : `/rollouts/${rolloutId}/devices/${event.deviceId}`,
          targetId: rolloutId,
          status: 200,
          sourceIp: null,
        })),
      );
    }
  }
}

/** How a transition reads in the audit log's route column: `rollout → aborted`, `rollout device → healthy`. */
function auditRoute(event: StepEvent): string {
  return event.scope === 'rollout'
    ? `rollout → ${event.toState}`
    : `rollout ${event.scope} → ${event.toState}`;
}

function deviceEvent(
  deviceId: string,
  fromState: string | null,
  toState: string,
  reason: string,
  actor: string,
): StepEvent {
  return { scope: 'device', phaseIndex: null, deviceId, fromState, toState, reason, details: null, actor };
}

interface JoinedDevice {
  id: string;
  decommissionedAt: Date | null;
  online: boolean;
  tags: Record<string, string>;
  sessionSeq: number | null;
  currentModel: { modelId: string; version: string } | null;
  lastTelemetry: Record<string, unknown> | null;
  lastTelemetryAt: Date | null;
}

function toSnapshotTarget(target: RolloutTargetRow, device: JoinedDevice | null): SnapshotTarget {
  return {
    deviceId: target.deviceId,
    position: target.position,
    state: target.state,
    phaseIndex: target.phaseIndex,
    attempts: target.attempts,
    model: target.model,
    previous: target.previous,
    gate: target.gate,
    jobId: target.jobId,
    jobStatus: target.jobStatus,
    jobDetails: target.jobDetails,
    actionError: target.actionError,
    crashReport: target.crashReport,
    installDeadline: target.installDeadline,
    sessionSeqAtSwitch: target.sessionSeqAtSwitch,
    switchedAt: target.switchedAt,
    soakUntil: target.soakUntil,
    failureType: target.failureType,
    failureReason: target.failureReason,
    rollbackJobId: target.rollbackJobId,
    rollbackJobStatus: target.rollbackJobStatus,
    rollbackJobDetails: target.rollbackJobDetails,
    device: device === null ? null : toSnapshotDevice(device),
  };
}

function toSnapshotDevice(device: JoinedDevice): SnapshotDevice {
  const telemetry = device.lastTelemetry;
  return {
    inService: device.decommissionedAt === null,
    online: device.online,
    tags: device.tags,
    sessionSeq: device.sessionSeq,
    currentModel: device.currentModel,
    telemetry:
      telemetry === null || device.lastTelemetryAt === null
        ? null
        : {
            modelId: typeof telemetry.modelId === 'string' ? telemetry.modelId : null,
            accuracy: typeof telemetry.accuracy === 'number' ? telemetry.accuracy : null,
            at: device.lastTelemetryAt,
          },
  };
}

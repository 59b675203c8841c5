import { Injectable } from '@nestjs/common';
import { asc, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { DatabaseAdapter } from '../database/database.adapter';
import { ROLLOUT_STATES, rollouts, rolloutTargets, TARGET_STATES } from '../database/schema';
import { IN_PROGRESS_STATES } from './rollouts.repository';

/** The rollout part of `GET /fleet/summary`. */
export const rolloutFleetStatusSchema = z.object({
  /** Rollouts by state (every state listed, 0 included). */
  byState: z.array(z.object({ state: z.enum(ROLLOUT_STATES), rollouts: z.number().int() })),
  /** Rollouts in progress (running, awaiting approval, paused) with their devices by state. */
  inProgress: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      state: z.enum(ROLLOUT_STATES),
      /** From 1. */
      currentPhase: z.number().int(),
      devices: z.record(z.string(), z.number().int()),
    }),
  ),
  /** Devices of the rollouts in progress, by their state in them. */
  devicesByState: z.array(z.object({ state: z.enum(TARGET_STATES), devices: z.number().int() })),
});

export type RolloutFleetStatus = z.infer<typeof rolloutFleetStatusSchema>;

/** Rollout counts for the fleet summary and the Prometheus gauges (read from the database: the same on every replica). */
@Injectable()
export class RolloutStatusRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  async fleetStatus(): Promise<RolloutFleetStatus> {
    const states = await this.database.db
      .select({ state: rollouts.state, count: sql<number>`count(*)::int` })
      .from(rollouts)
      .groupBy(rollouts.state);
    const counted = new Map(states.map((row) => [row.state, Number(row.count)]));
    const active = await this.database.db
      .select({
        id: rollouts.id,
        name: rollouts.name,
        state: rollouts.state,
        currentPhase: rollouts.currentPhase,
      })
      .from(rollouts)
      .where(inArray(rollouts.state, [...IN_PROGRESS_STATES]))
      .orderBy(asc(rollouts.seq));
    const targets =
      active.length === 0
        ? []
        : await this.database.db
            .select({
              rolloutId: rolloutTargets.rolloutId,
              state: rolloutTargets.state,
              count: sql<number>`count(*)::int`,
            })
            .from(rolloutTargets)
            .where(
              inArray(
                rolloutTargets.rolloutId,
                active.map((rollout) => rollout.id),
              ),
            )
            .groupBy(rolloutTargets.rolloutId, rolloutTargets.state);
    const devicesByState = new Map<string, number>();
    const perRollout = new Map<string, Record<string, number>>();
    for (const row of targets) {
      devicesByState.set(row.state, (devicesByState.get(row.state) ?? 0) + Number(row.count));
      const entry = perRollout.get(row.rolloutId) ?? {};
      entry[row.state] = Number(row.count);
      perRollout.set(row.rolloutId, entry);
    }
    return {
      byState: ROLLOUT_STATES.map((state) => ({ state, rollouts: counted.get(state) ?? 0 })),
      inProgress: active.map((rollout) => ({
        id: rollout.id,
        name: rollout.name,
        state: rollout.state,
        currentPhase: rollout.currentPhase + 1,
        devices: perRollout.get(rollout.id) ?? {},
      })),
      devicesByState: TARGET_STATES.map((state) => ({ state, devices: devicesByState.get(state) ?? 0 })),
    };
  }
}

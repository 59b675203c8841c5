import type { AutomaticRollback, JobExecutionStatus, JobStatusDetails } from '@emofleet/protocol';
import {
  type AbortCriterion,
  type DeviceModelRef,
  type FailureType,
  type PhaseState,
  type PreviousModel,
  type RolloutModelRef,
  type RolloutState,
  type TargetGate,
  type TargetState,
} from '../database/schema';
import { type TagRequirement } from '../devices/tag-selector';

/** What the engine knows about a target's device (from the registry). */
export interface SnapshotDevice {
  inService: boolean;
  online: boolean;
  tags: Record<string, string>;
  sessionSeq: number | null;
  currentModel: DeviceModelRef | null;
  telemetry: { modelId: string | null; accuracy: number | null; at: Date } | null;
}

export interface SnapshotTarget {
  deviceId: string;
  position: number;
  state: TargetState;
  phaseIndex: number | null;
  attempts: number;
  model: RolloutModelRef;
  previous: PreviousModel | null;
  gate: TargetGate | null;
  jobId: string | null;
  jobStatus: JobExecutionStatus | null;
  jobDetails: JobStatusDetails | null;
  actionError: string | null;
  /** The agent's own crash-loop rollback of this install (from its birth). */
  crashReport: AutomaticRollback | null;
  installDeadline: Date | null;
  sessionSeqAtSwitch: number | null;
  switchedAt: Date | null;
  soakUntil: Date | null;
  failureType: FailureType | null;
  failureReason: string | null;
  rollbackJobId: string | null;
  rollbackJobStatus: JobExecutionStatus | null;
  rollbackJobDetails: JobStatusDetails | null;
  /** null: the registry has no such device. */
  device: SnapshotDevice | null;
}

export interface SnapshotPhase {
  index: number;
  name: string;
  count: number | null;
  percent: number | null;
  successThresholdPercent: number;
  soakSeconds: number;
  approval: 'automatic' | 'manual';
  state: PhaseState;
}

export interface SnapshotRollout {
  id: string;
  state: RolloutState;
  stateReason: string | null;
  resumeState: RolloutState | null;
  currentPhase: number;
  selector: TagRequirement[];
  abortCriteria: AbortCriterion[];
  maxConcurrentInstalls: number;
  installTimeoutSeconds: number;
  installRetries: number;
  crashLoopRestarts: number;
  acceptsNewDevices: boolean;
}

/** A rollout as the engine steps it: read under the rollout's row lock. */
export interface RolloutSnapshot {
  rollout: SnapshotRollout;
  phases: SnapshotPhase[];
  targets: SnapshotTarget[];
}

/** What the bench tells the simulator child process (`fleet-simulator.child.ts`) over IPC. */

export interface FleetSimulatorSettings {
  count: number;
  idPrefix: string;
  /** Devices are `<idPrefix>-<firstNumber>` … `-<firstNumber + count - 1>` (default from 1). */
  firstNumber?: number;
  /** The control plane's manifest signing key, for devices that install rolled-out models (null: unchecked). */
  manifestPublicKey?: string | null;
  /** Delay between starting two agents (the simulator's default: 5 ms). */
  staggerMs?: number;
  secret: string;
  mqttUrl: string;
  topicPrefix: string;
  /** Each device keeps its spool and model slots in `<dataDir>/<device id>`. */
  dataDir: string;
  fps: number;
  /** Seconds each synthetic expression lasts: one event per expression. */
  expressionSeconds: number;
  telemetryIntervalMs: number;
  /** Warnings and errors of the agents, one JSON line each. */
  logFile: string;
}

/** One simulated device's counters, read from its agent. */
export interface DeviceCounters {
  deviceId: string;
  online: boolean;
  /** Highest seq appended to the spool (events created). */
  appendedSeq: number;
  /** Highest seq the control plane acknowledged. */
  acknowledgedSeq: number;
  /** Events dropped by spool overflow (declared lost). */
  droppedEvents: number;
  telemetryPublished: number;
}

export interface FleetSnapshot {
  /** `Date.now()` when the counters were read. */
  at: number;
  devices: DeviceCounters[];
  /** CPU seconds (user + system) the simulator process used so far. */
  cpuSeconds: number;
  rssBytes: number;
  /** Warning and error lines the agents logged so far. */
  agentWarnings: number;
  /** The same lines counted by their message. */
  agentWarningMessages: Record<string, number>;
  /** The simulator's event-loop delay since the previous snapshot (a lagging simulator offers less load). */
  eventLoopDelayMs: { p99: number; max: number };
}

export type SimulatorRequest =
  | { type: 'start'; settings: FleetSimulatorSettings }
  | { type: 'snapshot'; requestId: number }
  | { type: 'stop'; requestId: number };

export type SimulatorReply =
  | { type: 'started'; startupMs: number }
  | { type: 'snapshot'; requestId: number; snapshot: FleetSnapshot }
  | { type: 'stopped'; requestId: number; snapshot: FleetSnapshot }
  | { type: 'failed'; message: string };

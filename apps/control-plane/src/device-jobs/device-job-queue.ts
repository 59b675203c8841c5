/** The BullMQ queue that ends overdue device jobs (processed by the worker role). */
export enum DeviceJobQueue {
  Timeouts = 'device-job-timeouts',
}

export enum DeviceJobQueueJob {
  /** Times out one job at its deadline (delayed; one per device job, deduplicated by id). */
  TimeOut = 'time-out',
  /** Repeatable: times out every overdue job, for deadlines whose delayed job was lost (e.g. Redis flushed). */
  Sweep = 'sweep-overdue',
}

export interface TimeOutJobData {
  jobId: string;
}

/** How often the sweep runs. */
export const TIMEOUT_SWEEP_EVERY_MS = 15_000;
/** Overdue jobs one sweep ends at most (the next sweep takes the rest). */
export const TIMEOUT_SWEEP_BATCH = 500;

/** One delayed BullMQ job per device job: scheduling twice (two replicas, a retry) schedules once. */
export const timeOutJobId = (deviceJobId: string): string => `time-out-${deviceJobId}`;

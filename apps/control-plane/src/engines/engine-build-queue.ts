/** The BullMQ queue of engine builds (one job per engine cache key). */
export enum EngineBuildQueue {
  Builds = 'engine-build',
}

/** Job names of the queue. */
export enum EngineBuildJobName {
  Build = 'engine-build',
}

export interface EngineBuildJobData {
  cacheKey: string;
}

/** The device job operation a builder runs (libs/protocol `build-engine`). */
export const BUILD_ENGINE_OPERATION = 'build-engine';

/**
 * The BullMQ (and `pipeline_jobs`) id of the build of `cacheKey`: one job per key, so a second request, a
 * retried request or a resume from the database never builds twice. BullMQ ids may not contain ':'.
 */
export function engineBuildJobId(cacheKey: string): string {
  return `engine-build-${cacheKey}`;
}

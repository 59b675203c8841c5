import { Injectable } from '@nestjs/common';

/** Counters of telemetry ingestion since start, for throughput measurement and `/metrics`. */
@Injectable()
export class TelemetryIngestCounters {
  samplesReceived = 0;
  /** Samples inserted (windows received twice count once). */
  samplesStored = 0;
  flushes = 0;
  /** Samples of flushes that failed (database unavailable): dropped, telemetry is best effort (QoS 0). */
  samplesDropped = 0;
  /** Milliseconds from the end of the newest window of the last flush to its commit. */
  lastIngestLagMs = 0;
}

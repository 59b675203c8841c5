import { PROTOCOL_VERSION, type TelemetryMessage } from '@emofleet/protocol';
import { DeviceOfflineError } from '../connection';
import { type Logger } from '../logger';
import { type FrameStatistics } from './frame-statistics';
import { ProcessCpuMeter } from './process-usage';
import { type TegrastatsSample } from './tegrastats-line';
import { readThermalZones } from './thermal-zones';

export interface TelemetryChannel {
  publish(kind: 'telemetry', message: TelemetryMessage): Promise<void>;
}

export interface TelemetrySources {
  readonly frames: FrameStatistics;
  readonly spool: () => { depth: number; droppedTotal: number };
  readonly modelId: () => string | null;
  readonly accuracy: () => number | null;
  /** mAP@0.5 of the running model's last eval; omitted from the message when not given. */
  readonly map50?: () => number | null;
  /** Latest tegrastats sample (Jetson), or undefined. */
  readonly tegrastats?: () => TegrastatsSample | undefined;
  /** Root of the thermal zones; `null` reads none (simulated devices). */
  readonly thermalRoot?: string | null;
  /** Resident set size to report; the process's own by default (the simulator divides it). */
  readonly rssBytes?: () => number;
}

export interface TelemetryReporterOptions {
  readonly deviceId: string;
  readonly channel: TelemetryChannel;
  readonly sources: TelemetrySources;
  readonly intervalMs: number;
  readonly logger: Logger;
}

/**
 * Publishes one telemetry window every `intervalMs` (QoS 0: a window lost while offline is simply replaced by
 * the next one). Temperatures come from tegrastats on a Jetson, else from /sys/class/thermal.
 */
export class TelemetryReporter {
  private timer: NodeJS.Timeout | undefined;
  private readonly cpu = new ProcessCpuMeter();
  private windowsPublished = 0;

  constructor(private readonly options: TelemetryReporterOptions) {}

  get published(): number {
    return this.windowsPublished;
  }

  start(): void {
    this.timer = setInterval(() => void this.report(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Builds the current window's message (and starts a new window). */
  async buildMessage(): Promise<TelemetryMessage> {
    const { sources } = this.options;
    const window = sources.frames.takeWindow();
    const tegrastats = sources.tegrastats?.();
    const thermal =
      tegrastats !== undefined && Object.keys(tegrastats.temperaturesC).length > 0
        ? tegrastats.temperaturesC
        : sources.thermalRoot === null
          ? {}
          : await readThermalZones(sources.thermalRoot);
    const spool = sources.spool();
    return {
      v: PROTOCOL_VERSION,
      deviceId: this.options.deviceId,
      ...window,
      cpuPercent: this.cpu.takePercent(),
      rssBytes: sources.rssBytes?.() ?? process.memoryUsage().rss,
      temperaturesC: thermal,
      gpu: tegrastats?.gpu ?? null,
      modelId: sources.modelId(),
      accuracy: sources.accuracy(),
      ...(sources.map50 === undefined ? {} : { map50: sources.map50() }),
      spool: { depth: spool.depth, droppedTotal: spool.droppedTotal },
    };
  }

  private async report(): Promise<void> {
    try {
      await this.options.channel.publish('telemetry', await this.buildMessage());
      this.windowsPublished += 1;
    } catch (error) {
      if (error instanceof DeviceOfflineError) return;
      this.options.logger.warn('telemetry window not published', { error });
    }
  }
}

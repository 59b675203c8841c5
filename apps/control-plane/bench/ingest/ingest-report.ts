import { FILL_HISTORY_DAYS } from '../support/bench-database';
import { type QueryBenchmarkResult } from './event-query-benchmark';
import { type IngestBenchResult, type IngestRate } from './ingest-bench-result';
import { type LatencySummary } from '../support/latency-summary';
import { fixed, textTable } from '../support/text-table';

const count = (value: number): string => value.toLocaleString('en-US');

/** The human-readable report of one run. */
export function formatIngestReport(result: IngestBenchResult): string {
  const { options } = result;
  const sections = [
    `emofleet ingest bench: ${count(options.devices)} simulated devices, ${options.durationSeconds} s measured, ` +
      `telemetry 1 Hz, events ${options.eventRate}/s per device, ${options.fps} FPS synthetic\n` +
      `machine: ${result.machine.cpuModel}, ${result.machine.cores} cores, Node ${result.machine.node}, ` +
      `PostgreSQL ${result.machine.postgres}; fleet started in ${fixed(result.fleetStartupSeconds)} s`,
    textTable(
      [
        'ingestion (measured window)',
        'nominal/s',
        'offered/s',
        'stored/s',
        'offered/nominal',
        'stored/offered',
      ],
      [
        rateRow('telemetry windows (MQTT QoS 0)', result.rates.telemetryWindows),
        rateRow('emotion events', result.rates.events),
        rateRow('event batches (MQTT QoS 1)', result.rates.eventBatches),
        rateRow('acks published', result.rates.acksPublished),
        rateRow('duplicate events (re-sent)', result.rates.duplicateEvents),
        rateRow('PostgreSQL commits', result.rates.databaseCommits),
      ],
    ),
    `CPU during the window (% of one core): control plane ${fixed(result.cpuPercent.controlPlane)}, ` +
      `simulator ${fixed(result.cpuPercent.simulator)}, postgres ${fixed(result.cpuPercent.postgres)}, ` +
      `mosquitto ${fixed(result.cpuPercent.mosquitto)}; machine ${fixed(result.machineCoresBusy, 2)} of ` +
      `${result.machine.cores} cores busy (all processes)\nsimulator: RSS ` +
      `${fixed(result.simulatorRssBytes / 1048576, 0)} MiB (${fixed(result.simulatorRssBytes / 1024 / options.devices, 0)} ` +
      'KiB per device), event-loop delay p99 ' +
      `${fixed(result.simulatorEventLoopDelayMs.p99, 0)} ms, max ${fixed(result.simulatorEventLoopDelayMs.max, 0)} ms`,
    textTable(
      [
        `ingest → queryable, ms (${result.latency.sampleDevices} sample devices, polled every ${result.latency.pollIntervalMs} ms)`,
        'n',
        'p50',
        'p95',
        'p99',
        'max',
      ],
      [
        latencyRow('events: broker → GET /events', result.latency.events),
        latencyRow(
          'events: expression end → GET /events (agent side too)',
          result.latency.eventsFromExpressionEnd,
        ),
        latencyRow('telemetry: broker → GET /devices lastTelemetry', result.latency.telemetry),
      ],
    ) +
      `\n(never seen through the API: ${result.latency.eventsNeverQueryable} events, ` +
      `${result.latency.telemetryNeverShown} windows; ${result.latency.telemetryReplacedBeforeShown} windows ` +
      `replaced by a newer one between two polls; polling cost ${fixed(result.latency.pollRequestsPerSecond)} ` +
      'API requests/s)',
    deliverySection(result),
    querySection(result),
    result.problems.length === 0
      ? 'verdict: NOTHING LOST, NOTHING DUPLICATED'
      : `verdict: FAILED\n${result.problems.map((problem) => `  - ${problem}`).join('\n')}`,
  ];
  return `${sections.join('\n\n')}\n`;
}

function rateRow(name: string, rate: IngestRate): string[] {
  const ratio = (part: number | undefined, whole: number | undefined) =>
    part === undefined || whole === undefined || whole === 0 ? '-' : fixed(part / whole, 3);
  return [
    name,
    fixed(rate.nominal),
    fixed(rate.offered),
    fixed(rate.stored),
    ratio(rate.offered, rate.nominal),
    ratio(rate.stored, rate.offered),
  ];
}

function latencyRow(name: string, latency: LatencySummary): string[] {
  return [
    name,
    count(latency.count),
    fixed(latency.p50, 0),
    fixed(latency.p95, 0),
    fixed(latency.p99, 0),
    fixed(latency.max, 0),
  ];
}

function deliverySection(result: IngestBenchResult): string {
  const events = result.eventStorage;
  const telemetry = result.telemetryStorage;
  return [
    `events: ${count(events.expected)} created by the end of the window (seq 1..n on each device): ` +
      `${count(events.storedOfExpected)} stored; lost (acknowledged, not stored) ` +
      `${count(events.lostAfterAcknowledgement)}, still spooled at the stop ${count(events.undelivered)}, ` +
      `duplicate rows ${events.duplicateRows}, rows no device created ${events.unexpectedRows}, ` +
      `declared lost ${events.declaredLost} (${count(events.storedRows)} rows in all)`,
    `telemetry: ${count(telemetry.published)} windows published, ${count(telemetry.stored)} stored ` +
      `(${telemetry.devicesDiffering} devices differ)`,
    `unacknowledged events over the fleet: ${count(result.unacknowledgedEvents.atStart)} when the window ` +
      `started, ${count(result.unacknowledgedEvents.atEnd)} when it ended`,
    result.drainSeconds === undefined
      ? `drain: events still unacknowledged after ${result.options.drainTimeoutSeconds} s`
      : `drain: every event of the window acknowledged ${fixed(result.drainSeconds)} s after it ended`,
    `warnings logged: agents ${result.agentWarnings}, control plane ${result.controlPlaneProblems.count}` +
      result.controlPlaneProblems.first.map((message) => `\n  control plane: ${message}`).join(''),
  ].join('\n');
}

function querySection(result: IngestBenchResult): string {
  const { beforeFill, afterFill } = result.queries;
  const header = ['GET /events (limit 100), ms', ...columnsFor(beforeFill)];
  if (afterFill !== undefined) header.push(...columnsFor(afterFill), 'p95 ratio');
  const rows = beforeFill.shapes.map((before, index) => {
    const after = afterFill?.shapes[index];
    return [
      before.shape,
      ...shapeCells(before.latency, before.meanRows),
      ...(after === undefined
        ? []
        : [...shapeCells(after.latency, after.meanRows), fixed(after.latency.p95 / before.latency.p95, 2)]),
    ];
  });
  rows.push([
    'all requests',
    ...shapeCells(beforeFill.overall),
    ...(afterFill === undefined
      ? []
      : [...shapeCells(afterFill.overall), fixed(afterFill.overall.p95 / beforeFill.overall.p95, 2)]),
  ]);
  const fill =
    afterFill === undefined
      ? 'no synthetic fill (--events-fill 0)'
      : `synthetic fill: ${count(result.queries.rowsFilled)} rows over ${FILL_HISTORY_DAYS} days in ` +
        `${fixed(result.queries.fillSeconds)} s (INSERT … SELECT generate_series, then VACUUM ANALYZE)`;
  return `${textTable(header, rows)}\n${fill}`;
}

function columnsFor(result: QueryBenchmarkResult): string[] {
  const rows = result.rows >= 1_000_000 ? `${fixed(result.rows / 1e6, 2)}M` : count(result.rows);
  return [`p50 @${rows}`, `p95 @${rows}`, 'rows'];
}

function shapeCells(latency: LatencySummary, meanRows?: number): string[] {
  return [fixed(latency.p50), fixed(latency.p95), meanRows === undefined ? '' : fixed(meanRows, 0)];
}

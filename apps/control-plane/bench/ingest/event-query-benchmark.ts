import { type StoredEventSpan } from '../support/bench-database';
import { type ControlPlaneApi, type QueryParameters } from '../support/control-plane-api';
import { summariseLatencies, type LatencySummary } from '../support/latency-summary';

/** What query parameters are drawn from. */
export interface QueryUniverse {
  span: StoredEventSpan;
  deviceIds: readonly string[];
  labels: readonly string[];
  sites: number;
}

interface QueryShape {
  name: string;
  parameters(pick: ParameterPicker): QueryParameters;
  /** Follow `nextCursor` this many pages and time only the pages after the first (a client paging on). */
  pages?: number;
}

const HOUR_MS = 3_600_000;

/** The filter mix of `GET /events` the bench times (each page is the API's default 100 events). */
const QUERY_SHAPES: readonly QueryShape[] = [
  { name: 'device', parameters: (pick) => ({ device: pick.device() }) },
  { name: 'device, from a cursor', parameters: (pick) => ({ device: pick.device(), cursor: pick.id() }) },
  { name: 'label', parameters: (pick) => ({ label: pick.label() }) },
  { name: 'time range 1 h', parameters: (pick) => pick.timeRange(HOUR_MS) },
  { name: 'minScore 0.95', parameters: () => ({ minScore: 0.95 }) },
  { name: 'tag site=…', parameters: (pick) => ({ tags: `site=site-${pick.site()}` }) },
  {
    name: 'device + label + 1 day',
    parameters: (pick) => ({ device: pick.device(), label: pick.label(), ...pick.timeRange(24 * HOUR_MS) }),
  },
  {
    name: 'tag + label + minScore 0.9',
    parameters: (pick) => ({ tags: `site=site-${pick.site()}`, label: pick.label(), minScore: 0.9 }),
  },
  {
    name: '1 day + minScore 0.9',
    parameters: (pick) => ({ ...pick.timeRange(24 * HOUR_MS), minScore: 0.9 }),
  },
  { name: 'label, cursor pages 2-5', parameters: (pick) => ({ label: pick.label() }), pages: 5 },
];

export interface ShapeTiming {
  shape: string;
  latency: LatencySummary;
  meanRows: number;
}

export interface QueryBenchmarkResult {
  rows: number;
  shapes: ShapeTiming[];
  overall: LatencySummary;
}

/**
 * Times `GET /events` over the filter mix, `perShape` cases per shape, shapes interleaved, one request at a
 * time. Parameters come from a seeded generator, so two runs (e.g. before and after the fill) draw alike.
 */
export async function benchmarkEventQueries(
  api: ControlPlaneApi,
  universe: QueryUniverse,
  perShape: number,
): Promise<QueryBenchmarkResult> {
  const pick = new ParameterPicker(universe, 20_251_127);
  const timings = new Map<string, { ms: number[]; rows: number[] }>(
    QUERY_SHAPES.map((shape) => [shape.name, { ms: [], rows: [] }]),
  );
  for (let round = 0; round < perShape; round += 1) {
    for (const shape of QUERY_SHAPES) {
      const record = timings.get(shape.name) ?? { ms: [], rows: [] };
      const parameters = shape.parameters(pick);
      let cursor: string | undefined;
      for (let page = 1; page <= (shape.pages ?? 1); page += 1) {
        const started = process.hrtime.bigint();
        const answer = await api.listEvents({ ...parameters, cursor });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (page > 1 || shape.pages === undefined) {
          record.ms.push(ms);
          record.rows.push(answer.items.length);
        }
        cursor = answer.nextCursor ?? undefined;
        if (cursor === undefined) break;
      }
    }
  }
  const shapes = QUERY_SHAPES.map((shape) => {
    const record = timings.get(shape.name) ?? { ms: [], rows: [] };
    return {
      shape: shape.name,
      latency: summariseLatencies(record.ms),
      meanRows: record.rows.reduce((sum, rows) => sum + rows, 0) / Math.max(1, record.rows.length),
    };
  });
  return {
    rows: universe.span.rows,
    shapes,
    overall: summariseLatencies([...timings.values()].flatMap((record) => record.ms)),
  };
}

/** Random query parameters within what is stored (mulberry32: small, seedable). */
class ParameterPicker {
  private state: number;

  constructor(
    private readonly universe: QueryUniverse,
    seed: number,
  ) {
    this.state = seed >>> 0;
  }

  device(): string {
    return this.element(this.universe.deviceIds);
  }

  label(): string {
    return this.element(this.universe.labels);
  }

  site(): number {
    return Math.floor(this.next() * this.universe.sites);
  }

  id(): string {
    const { minId, maxId } = this.universe.span;
    return String(minId + Math.floor(this.next() * (maxId - minId)));
  }

  /** `from`/`to` of a `widthMs` window inside the stored span (the whole span if it is shorter). */
  timeRange(widthMs: number): { from: string; to: string } {
    const first = this.universe.span.firstStartedAt.getTime();
    const last = this.universe.span.lastStartedAt.getTime();
    const from = first + this.next() * Math.max(0, last - first - widthMs);
    return { from: new Date(from).toISOString(), to: new Date(from + widthMs).toISOString() };
  }

  private element<T>(values: readonly T[]): T {
    const value = values[Math.floor(this.next() * values.length)];
    if (value === undefined) throw new Error('nothing to pick from');
    return value;
  }

  private next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
}

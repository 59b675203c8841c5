import { type LatencyStatistics, type TrtexecTiming } from '@emofleet/protocol';

/**
 * Reading trtexec's console output. Two layouts exist on Jetsons:
 *
 * - TensorRT 8 and later: after `=== Performance summary ===`, one line per quantity, e.g.
 *   `[I] Latency: min = 2.1 ms, max = 2.9 ms, mean = 2.2 ms, median = 2.2 ms, percentile(99%) = 2.7 ms`,
 *   plus `[I] Throughput: 431.5 qps` and `[I] Total Host Walltime: 3.0 s`.
 * - TensorRT 7.x (JetPack 4.4/4.5): a heading line (`[I] Host Latency`, `[I] GPU Compute`) followed by
 *   `[I] min: 2.1 ms (end to end 2.2 ms)`, … `[I] percentile: 2.7 ms at 99% (end to end …)`, and
 *   `[I] throughput: 431.5 qps`, `[I] walltime: 3.0 s`.
 *
 * Lines may carry a `[MM/DD/YYYY-HH:MM:SS]` time stamp before the severity tag.
 */

/** `[12/21/2021-10:00:00] [I] text` → `text` (also without the time stamp). */
function messageOf(line: string): string {
  return line.replace(/^\s*(\[[^\]]*\]\s*)?\[[IWEVF]\]\s?/, '').trim();
}

const NUMBER = String.raw`([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)`;

/** `min = 1 ms, max = 2 ms, mean = …, median = …, percentile(99%) = … ms` (TensorRT 8+). */
function parseInlineStatistics(text: string): LatencyStatistics | undefined {
  const field = (name: string) => new RegExp(`\\b${name} = ${NUMBER} ms`).exec(text)?.[1];
  const percentile = (p: number) => new RegExp(`percentile\\(${p}%\\) = ${NUMBER} ms`).exec(text)?.[1];
  return statistics(field('min'), field('max'), field('mean'), field('median'), {
    p90: percentile(90),
    p95: percentile(95),
    p99: percentile(99),
  });
}

function statistics(
  min: string | undefined,
  max: string | undefined,
  mean: string | undefined,
  median: string | undefined,
  percentiles: Partial<Record<'p90' | 'p95' | 'p99', string | undefined>>,
): LatencyStatistics | undefined {
  if (min === undefined || max === undefined || mean === undefined || median === undefined) return undefined;
  const result: LatencyStatistics = {
    min: Number(min),
    max: Number(max),
    mean: Number(mean),
    median: Number(median),
  };
  for (const key of ['p90', 'p95', 'p99'] as const) {
    const value = percentiles[key];
    if (value !== undefined) result[key] = Number(value);
  }
  return result;
}

/** The statistics block under a TensorRT 7 heading (`Host Latency`, `GPU Compute`), starting after `index`. */
function parseBlockStatistics(messages: readonly string[], index: number): LatencyStatistics | undefined {
  const values: Record<string, string> = {};
  for (const message of messages.slice(index + 1, index + 8)) {
    const match = new RegExp(`^(min|max|mean|median): ${NUMBER} ms`).exec(message);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      values[match[1]] = match[2];
      continue;
    }
    const percentile = new RegExp(`^percentile: ${NUMBER} ms at (\\d+)%`).exec(message);
    if (percentile?.[1] !== undefined && percentile[2] !== undefined) {
      values[`p${percentile[2]}`] = percentile[1];
      continue;
    }
    break;
  }
  return statistics(values.min, values.max, values.mean, values.median, {
    p90: values.p90,
    p95: values.p95,
    p99: values.p99,
  });
}

/** The number the pattern captures in `message`, or undefined. */
function captured(pattern: RegExp, message: string): number | undefined {
  const value = pattern.exec(message)?.[1];
  return value === undefined ? undefined : Number(value);
}

const THROUGHPUT = new RegExp(`^[Tt]hroughput: ${NUMBER} qps`);
const WALLTIME = new RegExp(`^(?:Total Host Walltime|walltime): ${NUMBER} s`);

/** trtexec's performance summary (TensorRT 7 or 8+ layout); fields it does not find are left out. */
export function parseTrtexecTiming(output: string): TrtexecTiming {
  const messages = output.split(/\r?\n/).map(messageOf);
  const timing: TrtexecTiming = {};
  messages.forEach((message, index) => {
    const throughput = captured(THROUGHPUT, message);
    const walltime = captured(WALLTIME, message);
    if (throughput !== undefined) timing.throughputQps = throughput;
    else if (walltime !== undefined) timing.totalHostWalltimeSeconds = walltime;
    else if (message.startsWith('Latency: '))
      timing.latencyMs = parseInlineStatistics(message) ?? timing.latencyMs;
    else if (message.startsWith('GPU Compute Time: '))
      timing.gpuComputeMs = parseInlineStatistics(message) ?? timing.gpuComputeMs;
    else if (message === 'Host Latency')
      timing.latencyMs = parseBlockStatistics(messages, index) ?? timing.latencyMs;
    else if (message === 'GPU Compute')
      timing.gpuComputeMs = parseBlockStatistics(messages, index) ?? timing.gpuComputeMs;
  });
  return timing;
}

/**
 * The TensorRT version trtexec names in its first line, `&&&& RUNNING TensorRT.trtexec [TensorRT v8201] # …`:
 * `v8201` is 8.2.1 (major·1000 + minor·100 + patch), `v100200` is 10.2.0 (major·10000 + …).
 */
export function parseTrtexecVersion(output: string): string | undefined {
  const match = /&&&& RUNNING TensorRT\.trtexec \[TensorRT v(\d{4,6})\]/.exec(output);
  if (match?.[1] === undefined) return undefined;
  const code = Number(match[1]);
  const majorUnit = code >= 10_000 ? 10_000 : 1000;
  const major = Math.floor(code / majorUnit);
  const minor = Math.floor((code % majorUnit) / 100);
  return `${major}.${minor}.${code % 100}`;
}

/**
 * The end of a log that fits in `maxBytes` of UTF-8, cut at a line start when one is near, so a job update
 * carrying it stays within its size limit. Never splits a multi-byte character.
 */
export function logTail(text: string, maxBytes: number): string {
  const trimmed = text.replace(/\s+$/, '');
  const bytes = Buffer.from(trimmed, 'utf8');
  if (bytes.length <= maxBytes) return trimmed;
  let start = bytes.length - maxBytes;
  // Skip UTF-8 continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start += 1;
  const tail = bytes.subarray(start).toString('utf8');
  const newline = tail.indexOf('\n');
  return newline >= 0 && newline < 200 ? tail.slice(newline + 1) : tail;
}

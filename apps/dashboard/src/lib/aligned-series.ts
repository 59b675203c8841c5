/** Series on one shared, ascending time axis (seconds), as uPlot draws them; gaps are null. */
export interface AlignedSeries {
  x: number[];
  names: string[];
  values: Array<Array<number | null>>;
}

/**
 * Pivots rows of (time, series name, value) into aligned series: one x per distinct time, one series per
 * distinct name (in `order` first, then alphabetically), null where a series has no row at that time.
 */
export function alignSeries<Row>(
  rows: readonly Row[],
  read: { time(row: Row): string; name(row: Row): string; value(row: Row): number | null },
  order: readonly string[] = [],
): AlignedSeries {
  const times = [...new Set(rows.map((row) => Date.parse(read.time(row))))].sort((a, b) => a - b);
  const present = new Set(rows.map((row) => read.name(row)));
  const names = [
    ...order.filter((name) => present.has(name)),
    ...[...present].filter((name) => !order.includes(name)).sort((a, b) => a.localeCompare(b)),
  ];
  const timeIndex = new Map(times.map((time, index) => [time, index]));
  const nameIndex = new Map(names.map((name, index) => [name, index]));
  const values = names.map(() => new Array<number | null>(times.length).fill(null));
  for (const row of rows) {
    const value = read.value(row);
    const column = timeIndex.get(Date.parse(read.time(row)));
    const series = nameIndex.get(read.name(row));
    if (value === null || column === undefined || series === undefined) continue;
    const line = values[series];
    // Several rows for one series and time (e.g. counts split by another dimension) add up.
    if (line) line[column] = (line[column] ?? 0) + value;
  }
  return { x: times.map((time) => time / 1000), names, values };
}

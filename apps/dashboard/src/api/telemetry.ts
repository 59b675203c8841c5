import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { rangeQuery, type TimeRange } from '../lib/time-ranges';
import { api, unwrap } from './client';

/** Charts refresh at this pace; the raw-sample buckets (10 s) are the freshest the API offers. */
export const SERIES_REFRESH_MS = 10_000;

export function useFleetSummary() {
  return useQuery({
    queryKey: ['fleet-summary'],
    queryFn: async ({ signal }) => unwrap(await api.GET('/fleet/summary', { signal })),
    refetchInterval: 5000,
  });
}

/** Fleet FPS per bucket; `groupBy` is `model`, `tag:<key>` or undefined (the whole fleet). */
export function useFleetSeries(range: TimeRange, groupBy: string | undefined) {
  return useQuery({
    queryKey: ['fleet-series', range.id, groupBy],
    queryFn: async ({ signal }) =>
      unwrap(
        await api.GET('/telemetry/fleet', {
          params: { query: { ...rangeQuery(range, Date.now()), ...(groupBy ? { groupBy } : {}) } },
          signal,
        }),
      ),
    refetchInterval: SERIES_REFRESH_MS,
    placeholderData: keepPreviousData,
  });
}

export function useDeviceSeries(id: string, range: TimeRange) {
  return useQuery({
    queryKey: ['device-series', id, range.id],
    queryFn: async ({ signal }) =>
      unwrap(
        await api.GET('/devices/{id}/telemetry', {
          params: { path: { id }, query: rangeQuery(range, Date.now()) },
          signal,
        }),
      ),
    refetchInterval: SERIES_REFRESH_MS,
    placeholderData: keepPreviousData,
  });
}

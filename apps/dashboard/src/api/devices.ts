import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from './client';
import type { Device, DeviceUpdate } from './types';

/** How often device lists refresh: the live view of presence and the latest telemetry. */
export const DEVICE_REFRESH_MS = 5000;
const PAGE_SIZE = 500;

export interface DeviceQuery {
  /** Tag selector (`site=lab,camera!=csi`), checked by the API. */
  tags?: string;
}

/** Every device in service (all pages), refreshed every few seconds unless `live` is false. */
export function useAllDevices(query: DeviceQuery = {}, live = true) {
  return useQuery({
    queryKey: ['devices', query],
    queryFn: async ({ signal }): Promise<Device[]> => {
      const devices: Device[] = [];
      let cursor: string | undefined;
      do {
        const page = unwrap(
          await api.GET('/devices', {
            params: { query: { limit: PAGE_SIZE, cursor, ...(query.tags ? { tags: query.tags } : {}) } },
            signal,
          }),
        );
        devices.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return devices;
    },
    refetchInterval: live ? DEVICE_REFRESH_MS : false,
    placeholderData: keepPreviousData,
  });
}

export function useDevice(id: string) {
  return useQuery({
    queryKey: ['device', id],
    queryFn: async ({ signal }) =>
      unwrap(await api.GET('/devices/{id}', { params: { path: { id } }, signal })),
    refetchInterval: DEVICE_REFRESH_MS,
  });
}

export function useDeviceJobs(id: string) {
  return useQuery({
    queryKey: ['device-jobs', id],
    queryFn: async ({ signal }) =>
      unwrap(
        await api.GET('/devices/{id}/jobs', { params: { path: { id }, query: { limit: 100 } }, signal }),
      ),
    refetchInterval: DEVICE_REFRESH_MS,
  });
}

export function useUpdateDevice(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (update: DeviceUpdate) =>
      unwrap(await api.PATCH('/devices/{id}', { params: { path: { id } }, body: update })),
    onSuccess: (device) => {
      queryClient.setQueryData(['device', id], device);
      void queryClient.invalidateQueries({ queryKey: ['devices'] });
    },
  });
}

export function useRollbackDevice(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/devices/{id}/jobs', {
          params: { path: { id } },
          body: { operation: 'rollback', parameters: { reason: 'requested from the dashboard' } },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['device-jobs', id] }),
  });
}

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from './client';
import type { CreateRollout, RolloutSummary } from './types';

export type RolloutAction = 'approve' | 'pause' | 'resume' | 'cancel' | 'abort';

const FINISHED: ReadonlySet<RolloutSummary['state']> = new Set(['completed', 'aborted', 'canceled']);

export const isFinished = (rollout: Pick<RolloutSummary, 'state'>): boolean => FINISHED.has(rollout.state);

export function useRollouts() {
  return useQuery({
    queryKey: ['rollouts'],
    queryFn: async ({ signal }) =>
      unwrap(await api.GET('/rollouts', { params: { query: { limit: 100 } }, signal })),
    refetchInterval: 3000,
  });
}

/** One rollout with its phases and devices: every 2 s while it runs (the live view), then every 30 s. */
export function useRollout(id: string) {
  return useQuery({
    queryKey: ['rollout', id],
    queryFn: async ({ signal }) =>
      unwrap(await api.GET('/rollouts/{id}', { params: { path: { id } }, signal })),
    refetchInterval: (query) => (query.state.data && isFinished(query.state.data) ? 30_000 : 2000),
  });
}

/** The rollout's transitions (rollout, phase and device states), oldest first. */
export function useRolloutEvents(id: string, live: boolean) {
  return useQuery({
    queryKey: ['rollout-events', id],
    queryFn: async ({ signal }) =>
      unwrap(await api.GET('/rollouts/events', { params: { query: { rollout: id, limit: 1000 } }, signal })),
    refetchInterval: live ? 2000 : false,
  });
}

export function usePreviewRollout() {
  return useMutation({
    mutationFn: async (request: CreateRollout) =>
      unwrap(await api.POST('/rollouts/preview', { body: request })),
  });
}

export function useCreateRollout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (request: CreateRollout) => unwrap(await api.POST('/rollouts', { body: request })),
    onSuccess: (rollout) => {
      queryClient.setQueryData(['rollout', rollout.id], rollout);
      void queryClient.invalidateQueries({ queryKey: ['rollouts'] });
    },
  });
}

export function useRolloutAction(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ action, reason }: { action: RolloutAction; reason?: string }) => {
      const request = { params: { path: { id } }, body: reason === undefined ? {} : { reason } };
      switch (action) {
        case 'approve':
          return unwrap(await api.POST('/rollouts/{id}/approve', request));
        case 'pause':
          return unwrap(await api.POST('/rollouts/{id}/pause', request));
        case 'resume':
          return unwrap(await api.POST('/rollouts/{id}/resume', request));
        case 'cancel':
          return unwrap(await api.POST('/rollouts/{id}/cancel', request));
        case 'abort':
          return unwrap(await api.POST('/rollouts/{id}/abort', request));
      }
    },
    onSuccess: (rollout) => {
      queryClient.setQueryData(['rollout', id], rollout);
      void queryClient.invalidateQueries({ queryKey: ['rollouts'] });
      void queryClient.invalidateQueries({ queryKey: ['rollout-events', id] });
    },
  });
}

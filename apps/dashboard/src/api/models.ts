import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from './client';
import type { ModelVersionDetail, ModelVersionSummary } from './types';

export function useModels() {
  return useQuery({
    queryKey: ['models'],
    queryFn: async ({ signal }) => unwrap(await api.GET('/models', { signal })),
    refetchInterval: 15_000,
  });
}

export function useModelVersions(name: string | undefined) {
  return useQuery({
    queryKey: ['model-versions', name],
    enabled: name !== undefined,
    queryFn: async ({ signal }) =>
      unwrap(await api.GET('/models/{name}/versions', { params: { path: { name: name ?? '' } }, signal })),
    refetchInterval: 10_000,
  });
}

const unfinished = (detail: ModelVersionDetail | undefined) =>
  detail?.jobs.some((job) => job.status !== 'completed' && job.status !== 'failed') ?? false;

/** One version; refreshed every 2 s while a conversion or benchmark job is running (progress bars). */
export function useModelVersion(name: string | undefined, version: number | undefined) {
  return useQuery({
    queryKey: ['model-version', name, version],
    enabled: name !== undefined && version !== undefined,
    queryFn: async ({ signal }) =>
      unwrap(
        await api.GET('/models/{name}/versions/{version}', {
          params: { path: { name: name ?? '', version: version ?? 0 } },
          signal,
        }),
      ),
    refetchInterval: (query) => (unfinished(query.state.data) ? 2000 : 30_000),
  });
}

export function usePipelineJob(id: string | undefined) {
  return useQuery({
    queryKey: ['pipeline-job', id],
    enabled: id !== undefined,
    queryFn: async ({ signal }) =>
      unwrap(await api.GET('/jobs/{id}', { params: { path: { id: id ?? '' } }, signal })),
    refetchInterval: (query) =>
      query.state.data?.status === 'completed' || query.state.data?.status === 'failed' ? false : 2000,
  });
}

/** Every version of every model, by version id: what jobs and rollouts refer to (`name@version`, status). */
export function useVersionIndex() {
  return useQuery({
    queryKey: ['version-index'],
    queryFn: async ({ signal }): Promise<Map<string, ModelVersionSummary>> => {
      const models = unwrap(await api.GET('/models', { signal }));
      const lists = await Promise.all(
        models.items.map(async (model) =>
          unwrap(
            await api.GET('/models/{name}/versions', { params: { path: { name: model.name } }, signal }),
          ),
        ),
      );
      return new Map(lists.flatMap((list) => list.items).map((version) => [version.id, version]));
    },
    refetchInterval: 30_000,
  });
}

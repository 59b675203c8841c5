import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CONFIG_KEYS, loadAppConfig } from '../src/config/app-config';

/**
 * infra/kubernetes cannot be deployed here (no cluster): it is checked instead. Every resource validates against
 * the Kubernetes API schemas (kubernetes-models), selectors and references agree, and the environment the pods
 * get is a configuration the control plane accepts, for both roles.
 */
const DIRECTORY = join(__dirname, '../../../infra/kubernetes');

interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

interface Container {
  name: string;
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    containers: Container[];
    volumes?: Array<{
      name: string;
      persistentVolumeClaim?: { claimName: string };
      secret?: { secretName: string };
    }>;
  };
}

interface Kustomization {
  resources: string[];
  secretGenerator: Array<{ name: string; envs?: string[]; files?: string[] }>;
}

const read = (file: string): string => readFileSync(join(DIRECTORY, file), 'utf8');
const kustomization = parseAllDocuments(read('kustomization.yaml'))[0]?.toJS() as Kustomization;
const resources: Resource[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(read(file)).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`);
    return document.toJS() as Resource;
  }),
);
const byKind = (kind: string): Resource[] => resources.filter((resource) => resource.kind === kind);
const named = (kind: string, name: string): Resource | undefined =>
  byKind(kind).find((resource) => resource.metadata.name === name);
const envFile = (file: string): Record<string, string> =>
  Object.fromEntries(
    read(file)
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );

/** The kubernetes-models class for an apiVersion/kind (`apps/v1` → `kubernetes-models/apps/v1`). */
function modelClass(resource: Resource): new (data: unknown) => { validate(): void } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const group = require(`kubernetes-models/${resource.apiVersion}`) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const model = group[resource.kind];
  if (model === undefined) throw new Error(`no schema for ${resource.apiVersion} ${resource.kind}`);
  return model;
}

describe('infra/kubernetes', () => {
  it('lists only files that exist and parse, and validates every resource against the Kubernetes schemas', () => {
    expect(resources.length).toBe(kustomization.resources.length);
    for (const resource of resources) {
      const Model = modelClass(resource);
      expect(() => new Model(resource).validate()).not.toThrow();
    }
  });

  it('rejects a broken resource (the schema check is live)', () => {
    const deployment = structuredClone(named('Deployment', 'emofleet-api')) as Resource;
    (deployment.spec as { replicas: unknown }).replicas = 'two';
    const Model = modelClass(deployment);
    expect(() => new Model(deployment).validate()).toThrow(/replicas must be integer/);
  });

  it.each(['emofleet-api', 'emofleet-worker'])(
    '%s: selector matches its pods, and its volumes, config map and secrets exist',
    (name) => {
      const deployment = named('Deployment', name);
      expect(deployment).toBeDefined();
      const spec = deployment?.spec as {
        selector: { matchLabels: Record<string, string> };
        template: PodTemplate;
      };
      expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
      const generatedSecrets = kustomization.secretGenerator.map((secret) => secret.name);
      for (const volume of spec.template.spec.volumes ?? []) {
        if (volume.persistentVolumeClaim) {
          expect(named('PersistentVolumeClaim', volume.persistentVolumeClaim.claimName)).toBeDefined();
        }
        if (volume.secret) expect(generatedSecrets).toContain(volume.secret.secretName);
      }
      for (const container of spec.template.spec.containers) {
        const mounted = new Set((container.volumeMounts ?? []).map((mount) => mount.name));
        expect([...mounted].sort()).toEqual((spec.template.spec.volumes ?? []).map((v) => v.name).sort());
        for (const source of container.envFrom ?? []) {
          if (source.configMapRef) expect(named('ConfigMap', source.configMapRef.name)).toBeDefined();
          if (source.secretRef) expect(generatedSecrets).toContain(source.secretRef.name);
        }
      }
    },
  );

  it('gives both roles an environment the control plane accepts, naming only keys it reads', () => {
    const config = named('ConfigMap', 'emofleet-control-plane')?.data ?? {};
    const secrets = envFile('secrets.env.example');
    for (const name of ['emofleet-api', 'emofleet-worker']) {
      const container = (named('Deployment', name)?.spec as { template: PodTemplate }).template.spec
        .containers[0] as Container;
      const direct = Object.fromEntries(
        (container.env ?? []).map((entry) => [entry.name, entry.value ?? '']),
      );
      const environment = { ...config, ...secrets, ...direct };
      expect(Object.keys(environment).filter((key) => !CONFIG_KEYS.includes(key))).toEqual([]);
      const loaded = loadAppConfig(environment);
      expect(loaded.role).toBe(name === 'emofleet-api' ? 'api' : 'worker');
      // Several replicas must share these: one signing key, one artifact store, one broker group.
      expect(loaded.artifacts.signingKeyFile).toBe('/etc/emofleet/signing-key/signing-key.pem');
      expect(container.volumeMounts?.map((mount) => mount.mountPath)).toEqual(
        expect.arrayContaining(['/etc/emofleet/signing-key', loaded.dataDir]),
      );
      expect(loaded.artifacts.directory.startsWith(`${loaded.dataDir}/`)).toBe(true);
      expect(String(loaded.http.port)).toBe(String(container.ports?.[0]?.containerPort));
    }
  });

  it('routes the service, ingress, autoscaler and disruption budgets to existing workloads', () => {
    const apiPods = (named('Deployment', 'emofleet-api')?.spec as { template: PodTemplate }).template.metadata
      .labels;
    const service = named('Service', 'emofleet-api')?.spec as {
      selector: Record<string, string>;
      ports: Array<{ targetPort: string }>;
    };
    expect(apiPods).toMatchObject(service.selector);
    expect(service.ports[0]?.targetPort).toBe('http');
    const ingress = named('Ingress', 'emofleet-api')?.spec as {
      rules: Array<{ http: { paths: Array<{ backend: { service: { name: string } } }> } }>;
    };
    expect(ingress.rules[0]?.http.paths[0]?.backend.service.name).toBe('emofleet-api');
    const hpa = named('HorizontalPodAutoscaler', 'emofleet-api')?.spec as {
      scaleTargetRef: { kind: string; name: string };
    };
    expect(named(hpa.scaleTargetRef.kind, hpa.scaleTargetRef.name)).toBeDefined();
    for (const budget of byKind('PodDisruptionBudget')) {
      const selector = (budget.spec as { selector: { matchLabels: Record<string, string> } }).selector
        .matchLabels;
      const targets = byKind('Deployment').filter((deployment) => {
        const labels = (deployment.spec as { template: PodTemplate }).template.metadata.labels;
        return Object.entries(selector).every(([key, value]) => labels[key] === value);
      });
      expect(targets).toHaveLength(1);
    }
  });
});

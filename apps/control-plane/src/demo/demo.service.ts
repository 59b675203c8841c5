import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { FACEAPI_DEMO_VIDEO, faceapiDemoVideoArguments, locateFaceapiPackage } from '@emofleet/darknet';
import { z } from 'zod';
import { ARTIFACT_STORE, type ArtifactStore } from '../artifacts/artifact-store';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { DevicesService } from '../devices/devices.service';
import { EnrolmentService } from '../enrolment/enrolment.service';
import { EnrolmentTokensService } from '../enrolment/enrolment-tokens.service';
import { ModelsService } from '../models/models.service';
import { DemoAgentsAdapter } from './demo-agents.adapter';
import { DemoDetectorAdapter } from './demo-detector.adapter';
import { DEMO, DemoLayout } from './demo-layout';
import { prepareFaceapiBundle } from './faceapi-bundle';
import { FfmpegAdapter } from './ffmpeg.adapter';
import { writeReferenceEvalSet } from './reference-eval-set';

/** face-api's installed package, or an error that says how to get it. */
function faceapiPackage(): ReturnType<typeof locateFaceapiPackage> {
  try {
    return locateFaceapiPackage();
  } catch {
    throw new Error(
      '@vladmandic/face-api is not installed (a development dependency that `npm ci` installs): the demo takes ' +
        'its weights and photos from it',
    );
  }
}

/** The enrolled demo cameras, kept between starts (mode 0600: it holds their secrets). */
const demoDevicesSchema = z
  .array(z.object({ deviceId: z.string().min(1), secret: z.string().min(1) }))
  .min(1);
type DemoDevices = z.infer<typeof demoDevicesSchema>;

/**
 * The demo `npm start` runs (unless EMOFLEET_DEMO=0): face-api's two networks imported from the installed package
 * as a two-stage bundle, registered through the model service as the `faceapi-expression` model (so the pipeline
 * converts and benchmarks it), a looping demo video made from the package's photos, an eval set whose labels are the
 * reference model's own outputs, and a few enrolled simulated cameras running the real detector on the video with
 * the bundle preinstalled. Everything is made once under `<dataDir>/demo` and reused at later starts.
 */
@Injectable()
export class DemoService {
  private readonly layout: DemoLayout;
  private readonly topicPrefix: string;

  constructor(
    private readonly models: ModelsService,
    private readonly enrolmentTokens: EnrolmentTokensService,
    private readonly enrolment: EnrolmentService,
    private readonly devices: DevicesService,
    private readonly detector: DemoDetectorAdapter,
    private readonly ffmpeg: FfmpegAdapter,
    private readonly agents: DemoAgentsAdapter,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.layout = DemoLayout.under(config.dataDir);
    this.topicPrefix = config.mqtt.topicPrefix;
  }

  /** Prepares what is missing and starts the cameras; `log` gets one line per step. */
  async start(log: (line: string) => void): Promise<void> {
    const faceapi = faceapiPackage();
    await mkdir(this.layout.directory, { recursive: true });
    const files = prepareFaceapiBundle(faceapi.modelDir, this.layout.importDirectory);
    log(`face-api networks imported as a two-stage darknet bundle in ${this.layout.importDirectory}`);
    if (!existsSync(this.layout.evalSet)) {
      const labelled = await this.detector.detectPhotos(files, faceapi.photos);
      await writeReferenceEvalSet(labelled, this.layout.evalSet);
      log(
        `eval set ${this.layout.evalSet}: the ${labelled.length} demo photos labelled with the reference model's own ` +
          'outputs (for fidelity checks, not human ground truth)',
      );
    }
    if (!existsSync(this.layout.video)) {
      await this.ffmpeg.writeFile(faceapiDemoVideoArguments(faceapi.photos, this.layout.video));
      log(`demo video ${this.layout.video} made from the ${faceapi.photos.length} photos`);
    }
    const version = await this.registeredVersion(files);
    const archive = await this.bundleArchive(version);
    const cameras = await this.cameras();
    this.agents.start({
      devicesFile: this.layout.devicesFile,
      // The embedded broker may listen on another port than at the last start: ask at every start.
      mqttUrl: this.enrolment.deviceFacingMqttUrl(),
      topicPrefix: this.topicPrefix,
      signingKeyFile: this.layout.signingKeyFile,
      dataDir: this.layout.devicesDirectory,
      video: this.layout.video,
      frameWidth: FACEAPI_DEMO_VIDEO.width,
      frameHeight: FACEAPI_DEMO_VIDEO.height,
      fps: DEMO.fps,
      minScore: DEMO.minScore,
      bundleArchive: archive,
      model: { modelId: DEMO.modelName, version: String(version) },
      logFile: this.layout.agentsLog,
    });
    log(
      `${cameras.length} simulated cameras (${cameras.map((device) => device.deviceId).join(', ')}) ` +
        `run ${DEMO.modelName} v${version} on the native detector at ${DEMO.fps} FPS; log ${this.layout.agentsLog}`,
    );
  }

  /** The latest version of the demo model; the first start uploads the bundle through the model service. */
  private async registeredVersion(files: ReturnType<typeof prepareFaceapiBundle>): Promise<number> {
    const existing = await this.models.versions(DEMO.modelName).catch((error: unknown) => {
      if (error instanceof NotFoundException) return { items: [] };
      throw error;
    });
    const latest = existing.items[0];
    if (latest) return latest.version;
    const created = await this.models.createFromPaths(
      DEMO.modelName,
      { ...files, evalSetPath: this.layout.evalSet, transforms: [] },
      'demo',
    );
    return created.version;
  }

  /** The version's signed darknet bundle, copied out of the artifact store once. */
  private async bundleArchive(version: number): Promise<string> {
    const archive = this.layout.bundleArchive(version);
    if (existsSync(archive)) return archive;
    const detail = await this.models.version(DEMO.modelName, version);
    const manifest = detail.manifests.find((candidate) => candidate.format === 'darknet-bundle');
    if (!manifest) throw new Error(`${DEMO.modelName} v${version} has no darknet bundle`);
    await pipeline(await this.store.openRead(manifest.sha256), createWriteStream(`${archive}.part`));
    await rename(`${archive}.part`, archive);
    return archive;
  }

  /** The enrolled cameras: reused while they are registered and in service, else enrolled anew. */
  private async cameras(): Promise<DemoDevices> {
    const kept = await this.keptCameras();
    if (kept) return kept;
    const { token } = await this.enrolmentTokens.create(
      { name: 'demo cameras', maxUses: DEMO.cameras, tags: { demo: 'faceapi' } },
      undefined,
    );
    const devices: DemoDevices = [];
    for (let n = 1; n <= DEMO.cameras; n += 1) {
      const enrolled = await this.enrolment.enrol({ token, name: `demo-camera-${n}` });
      devices.push({ deviceId: enrolled.deviceId, secret: enrolled.secret });
      await writeFile(this.layout.signingKeyFile, enrolled.signingPublicKey);
    }
    await writeFile(this.layout.devicesFile, `${JSON.stringify(devices, null, 2)}\n`, { mode: 0o600 });
    return devices;
  }

  private async keptCameras(): Promise<DemoDevices | undefined> {
    if (!existsSync(this.layout.devicesFile) || !existsSync(this.layout.signingKeyFile)) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(await readFile(this.layout.devicesFile, 'utf8'));
    } catch {
      return undefined;
    }
    const parsed = demoDevicesSchema.safeParse(json);
    if (!parsed.success) return undefined;
    for (const { deviceId } of parsed.data) {
      const device = await this.devices.get(deviceId).catch((error: unknown) => {
        if (error instanceof NotFoundException) return undefined;
        throw error;
      });
      if (!device || device.decommissionedAt !== null) return undefined;
    }
    return parsed.data;
  }
}

import { join } from 'node:path';

/** What the demo runs: one model, a few simulated cameras on the demo video. */
export const DEMO = {
  /** The model the demo registers and its cameras run (the default model of a fresh installation). */
  modelName: 'faceapi-expression',
  cameras: 3,
  /** Frames per second each simulated camera takes from the video. */
  fps: 5,
  /** The tracker ignores detections below this score (face score x expression probability). */
  minScore: 0.3,
} as const;

/** Where the demo keeps its files: `<dataDir>/demo/…` (generated at the first start, never committed). */
export class DemoLayout {
  constructor(readonly directory: string) {}

  static under(dataDir: string): DemoLayout {
    return new DemoLayout(join(dataDir, 'demo'));
  }

  /** libs/darknet's face-api import (cfg, weights, names, faceapi-import.json) plus bundle.json. */
  get importDirectory(): string {
    return join(this.directory, 'faceapi');
  }

  get evalSet(): string {
    return join(this.directory, 'reference-labels-eval-set.tar');
  }

  get video(): string {
    return join(this.directory, 'demo.mp4');
  }

  /** The registered version's darknet bundle, copied from the artifact store for the cameras to preinstall. */
  bundleArchive(version: number): string {
    return join(this.directory, `${DEMO.modelName}-v${version}.tar`);
  }

  /** The enrolled camera identities (device id + secret), mode 0600. */
  get devicesFile(): string {
    return join(this.directory, 'devices.json');
  }

  get signingKeyFile(): string {
    return join(this.directory, 'signing-key.pub.pem');
  }

  /** State of the simulated devices (spools, model slots). */
  get devicesDirectory(): string {
    return join(this.directory, 'devices');
  }

  get agentsLog(): string {
    return join(this.directory, 'agents.log');
  }
}

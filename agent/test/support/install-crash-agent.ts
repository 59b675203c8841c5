// The real agent (`run`: configuration from the environment and the enrolment, MQTT, reconcile, detection loop)
// with a model loader and a bundle unpacker the kill -9 test controls, so that it can kill the process at a
// chosen install step without racing a timer:
//   EMOFLEET_TEST_BLOCK=unpack|load and EMOFLEET_TEST_BLOCK_SHA256=<artifact sha256>: when the agent unpacks
//   (after writing part of the bundle) or loads that artifact, it writes <data dir>/blocked-at and then blocks
//   (unpack: the thread sleeps; load: the promise never settles) until it is killed.
//   EMOFLEET_TEST_CRASH_SHA256=<artifact sha256> and EMOFLEET_TEST_CRASH_AFTER_DETECTIONS=<n>: that model's
//   detector kills its own process (SIGKILL, like a native crash) on detection n + 1 in this process.
// Every load is appended to <data dir>/loads.jsonl: model, slot, model.weights size and whether the slot's
// install marker names the model's sha256 at that moment.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAgentConfig } from '../../src/config';
import { createJsonLogger } from '../../src/logger';
import { unpackModelBundle, type ModelLoader } from '../../src/reconcile';
import { runAgent } from '../../src/run-agent';
import { INSTALL_MARKER } from '../../src/slots';
import { testModelLoader } from './signed-models';

export interface LoadRecord {
  readonly modelId: string;
  readonly slot: string;
  readonly weightsBytes: number;
  readonly markerMatches: boolean;
}

const block = process.env.EMOFLEET_TEST_BLOCK;
const blockSha256 = process.env.EMOFLEET_TEST_BLOCK_SHA256;
const crashSha256 = process.env.EMOFLEET_TEST_CRASH_SHA256;
const crashAfterDetections = Number(process.env.EMOFLEET_TEST_CRASH_AFTER_DETECTIONS ?? 0);
let detections = 0;

function blockForever(): never {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0);
}

async function main(): Promise<void> {
  const config = await loadAgentConfig({}, process.env);
  const blockedAt = path.join(config.dataDir, 'blocked-at');
  const loads = path.join(config.dataDir, 'loads.jsonl');

  const loader: ModelLoader = async (directory, model) => {
    const marker = path.join(directory, INSTALL_MARKER);
    const record: LoadRecord = {
      modelId: model.modelId,
      slot: path.basename(directory),
      weightsBytes: fs.statSync(path.join(directory, 'model.weights')).size,
      markerMatches:
        fs.existsSync(marker) &&
        (JSON.parse(fs.readFileSync(marker, 'utf8')) as { sha256?: string }).sha256 === model.sha256,
    };
    fs.appendFileSync(loads, `${JSON.stringify(record)}\n`);
    if (block === 'load' && model.sha256 === blockSha256) {
      fs.writeFileSync(blockedAt, 'load');
      return new Promise(() => undefined);
    }
    const detector = await testModelLoader(directory, model);
    if (model.sha256 !== crashSha256) return detector;
    return {
      modelId: detector.modelId,
      backend: detector.backend,
      detect(frame) {
        detections += 1;
        if (detections > crashAfterDetections) process.kill(process.pid, 'SIGKILL');
        return detector.detect(frame);
      },
      close: () => detector.close(),
    };
  };

  const unpackBundle = (archive: string, directory: string): string[] => {
    const written = unpackModelBundle(archive, directory);
    if (block === 'unpack' && path.basename(archive) === `${blockSha256 ?? ''}.part`) {
      // Leave the slot as a crash in the middle of writing model.weights would.
      const weights = path.join(directory, 'model.weights');
      fs.truncateSync(weights, Math.floor(fs.statSync(weights).size / 2));
      fs.writeFileSync(blockedAt, 'unpack');
      blockForever();
    }
    return written;
  };

  const logger = createJsonLogger(config.logLevel);
  const agent = await runAgent(config, '0.1.0', logger, { loader, unpackBundle });
  process.once('SIGTERM', () => {
    void agent.stop().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `install-crash-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

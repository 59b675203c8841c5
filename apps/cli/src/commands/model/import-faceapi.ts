import { type Command } from 'commander';
import { importFaceapiModels, inspectNetwork, type ImportedNetwork } from '@emofleet/darknet';

interface ImportFaceapiOptions {
  readonly out: string;
}

function describe(role: string, imported: ImportedNetwork): string {
  const { network } = imported.model;
  const { params, flops } = inspectNetwork(network).totals;
  const [channels, height, width] = network.inputShape;
  return [
    `${role}: ${network.layers.length} layers, input ${channels}x${height}x${width}, ${params} params, ${(flops / 1e9).toFixed(3)} GFLOPs`,
    `  ${imported.files.cfg}`,
    `  ${imported.files.weights}`,
    `  ${imported.files.names} (${imported.labels.join(', ')})`,
  ].join('\n');
}

export function registerImportFaceapiCommand(program: Command): void {
  program
    .command('import-faceapi')
    .description(
      "Convert @vladmandic/face-api's tiny_face_detector_model and face_expression_model (TF.js manifests, " +
        'dequantised as TF.js does) to darknet cfg + weights + names, plus faceapi-import.json with each ' +
        "network's input preprocessing and the expression label mapping to the paper's names",
    )
    .argument('<model-dir>', "face-api's model/ folder (holds the *-weights_manifest.json and *.bin files)")
    .requiredOption('-o, --out <dir>', 'output directory (created if missing)')
    .action((modelDir: string, options: ImportFaceapiOptions) => {
      const imported = importFaceapiModels(modelDir, options.out);
      process.stdout.write(
        `${describe('face detector', imported.detector)}\n${describe('expression classifier', imported.expression)}\n` +
          `summary: ${imported.summaryFile}\n`,
      );
    });
}

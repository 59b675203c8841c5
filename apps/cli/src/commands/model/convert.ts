import { Option, type Command } from 'commander';
import {
  loadCfg,
  loadWeights,
  rawOutputs,
  saveCaffe,
  saveOnnx,
  type Network,
  type NetworkWeights,
} from '@emofleet/darknet';

interface ConvertOptions {
  readonly to: 'onnx' | 'caffe';
  readonly out: string;
}

/** Writes the export (each file atomically) and returns the paths written. */
function writeExport(
  format: ConvertOptions['to'],
  network: Network,
  weights: NetworkWeights,
  out: string,
): string[] {
  if (format === 'onnx') {
    saveOnnx(network, weights, out);
    return [out];
  }
  const paths = saveCaffe(network, weights, out);
  return [paths.prototxt, paths.caffemodel];
}

export function registerConvertCommand(program: Command): void {
  program
    .command('convert')
    .description(
      'Convert darknet cfg + weights to ONNX (opset 13) or Caffe (prototxt + caffemodel). Batch norm is folded ' +
        "with darknet's sqrt(var) + 1e-6; the output 'raw' is the tensor before [region]/[yolo], undecoded.",
    )
    .argument('<cfg>', 'darknet .cfg file')
    .argument('<weights>', 'darknet .weights file')
    .addOption(new Option('--to <format>', 'export format').choices(['onnx', 'caffe']).makeOptionMandatory())
    .requiredOption(
      '-o, --out <path>',
      'output .onnx file, or the Caffe .prototxt path (the .caffemodel goes next to it)',
    )
    .action((cfg: string, weights: string, options: ConvertOptions) => {
      const network = loadCfg(cfg);
      const networkWeights = loadWeights(network, weights);
      const written = writeExport(options.to, network, networkWeights, options.out);
      const outputs = rawOutputs(network)
        .map((output) => `${output.name} = layer ${output.layerIndex} (${output.shape.join('x')})`)
        .join(', ');
      process.stdout.write(
        `wrote ${written.join(' and ')}\ninput: input 1x${network.inputShape.join('x')} RGB 0..1; outputs: ${outputs}\n`,
      );
    });
}

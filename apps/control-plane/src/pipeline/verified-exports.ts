import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportCaffe,
  ExportError,
  exportOnnx,
  formatVerifyReport,
  type Network,
  type NetworkWeights,
  verifyNetworkExport,
  type VerifyReport,
} from '@emofleet/darknet';
import { UnrecoverableError } from 'bullmq';
import { type ModelFileRole } from '../database/schema';

/** Largest accepted `max|export − reference| / max|reference|` (the toolchain's tolerance). */
export const EXPORT_TOLERANCE = 1e-4;
/** Seeded random inputs per format; the reference pass of YOLO v2-tiny takes seconds per input. */
const VERIFY_INPUTS = 1;
const VERIFY_SEED = 1;

/** One exported file, ready to be stored as an artifact of the version. */
export interface ExportedFile {
  role: Extract<ModelFileRole, 'onnx' | 'caffe-prototxt' | 'caffe-model'>;
  fileName: string;
  bytes: Buffer;
}

/** The numbers a verification produced, as kept in the job result. */
export interface VerifiedFormat {
  format: VerifyReport['format'];
  maxAbs: number;
  maxRel: number;
  tolerance: number;
  inputs: number;
  seed: number;
  outputs: Array<{ name: string; layerIndex: number; maxAbs: number; maxRel: number }>;
}

export interface VerifiedExports {
  files: ExportedFile[];
  verified: VerifiedFormat[];
}

/** Where the caller reports steps: a log line per format, and progress within the export stage (0..1). */
export interface ExportProgress {
  log(line: string): Promise<void>;
  advance(fraction: number): Promise<void>;
}

/**
 * Exports ONNX and Caffe with libs/darknet and checks each numerically against darknet's reference forward
 * pass (ONNX on onnxruntime-node, Caffe on OpenCV's Caffe importer). An export the toolchain refuses, or a
 * difference above the tolerance, is an `UnrecoverableError` carrying the numbers: retrying cannot change it.
 */
export async function exportAndVerify(
  network: Network,
  weights: NetworkWeights,
  stem: string,
  progress: ExportProgress,
): Promise<VerifiedExports> {
  const directory = await mkdtemp(join(tmpdir(), 'emofleet-convert-'));
  try {
    const onnx = Buffer.from(exportable('ONNX', () => exportOnnx(network, weights)));
    const onnxPath = join(directory, `${stem}.onnx`);
    await writeFile(onnxPath, onnx);
    await progress.log(`exported ONNX (${onnx.length} bytes); verifying on onnxruntime-node`);
    await progress.advance(0.1);
    const onnxReport = await verify(network, weights, { format: 'onnx', path: onnxPath });
    await progress.log(formatVerifyReport(onnxReport).trimEnd());
    await progress.advance(0.5);

    const caffe = exportable('Caffe', () => exportCaffe(network, weights));
    const prototxt = Buffer.from(caffe.prototxt, 'utf8');
    const caffemodel = Buffer.from(caffe.caffemodel);
    const prototxtPath = join(directory, `${stem}.prototxt`);
    const caffemodelPath = join(directory, `${stem}.caffemodel`);
    await writeFile(prototxtPath, prototxt);
    await writeFile(caffemodelPath, caffemodel);
    await progress.log(
      `exported Caffe (${prototxt.length} + ${caffemodel.length} bytes); verifying on OpenCV's Caffe importer`,
    );
    await progress.advance(0.6);
    const caffeReport = await verify(network, weights, {
      format: 'caffe',
      prototxt: prototxtPath,
      caffemodel: caffemodelPath,
    });
    await progress.log(formatVerifyReport(caffeReport).trimEnd());
    await progress.advance(1);

    return {
      files: [
        { role: 'onnx', fileName: `${stem}.onnx`, bytes: onnx },
        { role: 'caffe-prototxt', fileName: `${stem}.prototxt`, bytes: prototxt },
        { role: 'caffe-model', fileName: `${stem}.caffemodel`, bytes: caffemodel },
      ],
      verified: [summarise(onnxReport), summarise(caffeReport)],
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

function exportable<T>(format: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof ExportError)
      throw new UnrecoverableError(`${format} export refused: ${error.message}`);
    throw error;
  }
}

async function verify(
  network: Network,
  weights: NetworkWeights,
  exported: Parameters<typeof verifyNetworkExport>[2],
): Promise<VerifyReport> {
  const report = await verifyNetworkExport(network, weights, exported, {
    inputs: VERIFY_INPUTS,
    seed: VERIFY_SEED,
    tolerance: EXPORT_TOLERANCE,
  });
  if (!report.passed) {
    throw new UnrecoverableError(
      `${report.format} export does not match the darknet source: max abs ${report.maxAbs.toExponential(3)}, ` +
        `max rel ${report.maxRel.toExponential(3)} > tolerance ${report.tolerance}\n${formatVerifyReport(report)}`,
    );
  }
  return report;
}

function summarise(report: VerifyReport): VerifiedFormat {
  return {
    format: report.format,
    maxAbs: report.maxAbs,
    maxRel: report.maxRel,
    tolerance: report.tolerance,
    inputs: report.inputs,
    seed: report.seed,
    outputs: report.outputs.map((output) => ({
      name: output.name,
      layerIndex: output.layerIndex,
      maxAbs: output.maxAbs,
      maxRel: output.maxRel,
    })),
  };
}

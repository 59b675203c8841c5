import { type Command } from 'commander';
import { registerConvertCommand } from './convert';
import { registerImportFaceapiCommand } from './import-faceapi';
import { registerInspectCommand } from './inspect';
import { registerPlanCommand } from './plan';
import { registerQuantizeCommand } from './quantize';
import { registerTransformCommand } from './transform';
import { registerVerifyCommand } from './verify';

/** `emofleet model …`: darknet model analysis, transforms, export and TensorRT build plans. */
export function registerModelCommands(program: Command): void {
  const model = program
    .command('model')
    .description('Analyse, transform, export and verify darknet models; plan TensorRT builds');
  registerInspectCommand(model);
  registerTransformCommand(model);
  registerConvertCommand(model);
  registerVerifyCommand(model);
  registerPlanCommand(model);
  registerImportFaceapiCommand(model);
  registerQuantizeCommand(model);
}

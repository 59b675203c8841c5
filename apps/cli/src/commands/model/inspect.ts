import { type Command } from 'commander';
import { formatInspectTable, inspectNetwork, loadCfg, loadWeights } from '@emofleet/darknet';

interface InspectOptions {
  weights?: string;
  json?: boolean;
}

export function registerInspectCommand(model: Command): void {
  model
    .command('inspect <cfg>')
    .description(
      'Per-layer table of a darknet network: type, filters, size/stride, shapes, params, FLOPs, totals',
    )
    .option('-w, --weights <file>', 'also check that a .weights file matches the cfg exactly')
    .option('--json', 'print {"layers":[{index,type,output,params,flops}],"totals":{params,flops}}')
    .action((cfgPath: string, options: InspectOptions) => {
      const network = loadCfg(cfgPath);
      const weights = options.weights ? loadWeights(network, options.weights) : undefined;
      if (options.json) process.stdout.write(`${JSON.stringify(inspectNetwork(network))}\n`);
      else process.stdout.write(formatInspectTable(network, weights));
    });
}

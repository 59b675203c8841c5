import { readFileSync } from 'fs';
import { CfgError } from '../cfg/cfg-error';
import { readCfgText } from '../cfg/read-cfg-text';
import { SectionReader } from '../cfg/section-reader';
import { COMMON_UNSUPPORTED, LAYER_BUILDERS, SECTION_LAYER_TYPES } from './layer-builders';
import { readNetSection } from './net-section';
import type { CfgDocument, Layer, LayerType, Network, Shape } from './types';

/**
 * Layer types darknet can place after a `[softmax]`: softmax leaves its output width/height/channels at 0
 * (softmax_layer.c), so only layers that read the flat input size work behind it.
 */
const FLAT_INPUT_TYPES: ReadonlySet<LayerType> = new Set<LayerType>(['connected', 'softmax']);

/**
 * Resolves a split cfg into a `Network`: the first section must be `[net]`/`[network]`, every following
 * section becomes one layer whose input is the previous layer's output (the `[net]` input for layer 0),
 * and every shape is inferred as darknet's `parse_network_cfg` does.
 */
export function buildNetwork(document: CfgDocument): Network {
  const [netSection, ...layerSections] = document.sections;
  if (!netSection) throw new CfgError(document.file, 1, 'the file has no sections (expected [net] first)');
  if (netSection.type !== 'net' && netSection.type !== 'network') {
    throw new CfgError(
      document.file,
      netSection.line,
      `the first section must be [net], got [${netSection.type}]`,
    );
  }
  const net = readNetSection(new SectionReader(document.file, netSection));
  const inputShape: Shape = [net.channels, net.height, net.width];
  if (layerSections.length === 0)
    throw new CfgError(document.file, netSection.line, 'the network has no layers');

  const layers: Layer[] = [];
  for (const section of layerSections) {
    const type = SECTION_LAYER_TYPES[section.type];
    if (!type) {
      const known = Object.keys(SECTION_LAYER_TYPES).join(', ');
      throw new CfgError(
        document.file,
        section.line,
        `unknown section [${section.type}] (supported: ${known})`,
      );
    }
    const reader = new SectionReader(document.file, section);
    reader.rejectUnsupported(COMMON_UNSUPPORTED);
    const previousLayer = layers[layers.length - 1];
    if (previousLayer?.type === 'softmax' && !FLAT_INPUT_TYPES.has(type)) {
      throw new CfgError(
        document.file,
        section.line,
        `[${section.type}] needs an image input, but layer ${previousLayer.index} is a [softmax], whose output darknet treats as a flat vector (only [connected] or [softmax] may follow it)`,
      );
    }
    layers.push(
      LAYER_BUILDERS[type]({
        reader,
        index: layers.length,
        inputShape: previousLayer ? previousLayer.outputShape : inputShape,
        previous: layers,
      }),
    );
  }
  const lastLayer = layers[layers.length - 1];
  return {
    source: document.file,
    net,
    layers,
    inputShape,
    outputShape: lastLayer ? lastLayer.outputShape : inputShape,
  };
}

/** Parses cfg text; `file` names the source in error messages. */
export function parseCfg(text: string, file = '<cfg>'): Network {
  return buildNetwork(readCfgText(text, file));
}

/** Reads and parses a `.cfg` file. */
export function loadCfg(path: string): Network {
  return parseCfg(readFileSync(path, 'utf8'), path);
}

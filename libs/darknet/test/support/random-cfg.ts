import fc from 'fast-check';

/** Raw random choices for one layer; `buildRandomCfg` turns them into a valid section. */
export interface LayerSeed {
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly flag: boolean;
  readonly flag2: boolean;
}

export interface CfgSeed {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly layers: readonly LayerSeed[];
  readonly head: number;
}

export interface RandomCfgOptions {
  /** Only layers and activations OpenCV 4.6's darknet importer understands; canonical section names. */
  readonly openCvCompatible: boolean;
}

export const layerSeedArbitrary: fc.Arbitrary<LayerSeed> = fc.record({
  kind: fc.nat(99),
  a: fc.nat(1000),
  b: fc.nat(1000),
  c: fc.nat(1000),
  d: fc.nat(1000),
  flag: fc.boolean(),
  flag2: fc.boolean(),
});

export const cfgSeedArbitrary: fc.Arbitrary<CfgSeed> = fc.record({
  width: fc.integer({ min: 4, max: 48 }),
  height: fc.integer({ min: 4, max: 48 }),
  channels: fc.integer({ min: 1, max: 4 }),
  layers: fc.array(layerSeedArbitrary, { minLength: 1, maxLength: 10 }),
  head: fc.nat(3),
});

type Dims = [number, number, number];

const KINDS = [
  'conv',
  'conv',
  'conv',
  'maxpool',
  'maxpool',
  'route',
  'reorg',
  'shortcut',
  'upsample',
  'avgpool',
  'connected',
  'softmax',
] as const;

/**
 * Builds valid cfg text from seeds with its own shape bookkeeping (plain darknet formulas, written
 * independently of the library) so every generated network is one darknet accepts.
 */
export function buildRandomCfg(seed: CfgSeed, options: RandomCfgOptions): string {
  const sections: string[] = [
    [
      '[net]',
      'batch=1',
      'subdivisions=1',
      `width=${seed.width}`,
      `height=${seed.height}`,
      `channels=${seed.channels}`,
      'learning_rate=0.001',
      'hue=.1',
    ].join('\n'),
  ];
  const shapes: Dims[] = [];
  let current: Dims = [seed.channels, seed.height, seed.width];
  const activations = options.openCvCompatible
    ? ['linear', 'leaky', 'logistic']
    : ['linear', 'leaky', 'relu', 'logistic'];
  const push = (lines: string[], output: Dims): void => {
    sections.push(lines.join('\n'));
    shapes.push(output);
    current = output;
  };
  const conv = (s: LayerSeed, filtersOverride?: number): void => {
    const [c, h, w] = current;
    let size = [1, 2, 3, 5][s.b % 4] ?? 1;
    const stride = 1 + (s.c % 2);
    const pad = s.flag;
    let padding = pad ? Math.floor(size / 2) : s.d % 3;
    if (h + 2 * padding < size || w + 2 * padding < size) {
      size = 1;
      padding = pad ? 0 : padding;
    }
    let filters = filtersOverride ?? 1 + (s.a % 8);
    let groups = 1;
    if (filtersOverride === undefined && s.flag2 && c > 1 && !options.openCvCompatible) {
      groups = c;
      filters = c * (1 + (s.a % 2));
    }
    const activation =
      filtersOverride === undefined ? (activations[(s.a + s.b) % activations.length] ?? 'linear') : 'linear';
    const name = options.openCvCompatible || s.d % 2 === 0 ? 'convolutional' : 'conv';
    const lines = [`[${name}]`, `filters=${filters}`, `size=${size}`, `stride=${stride}`];
    lines.push(pad ? 'pad=1' : `padding=${padding}`);
    if (groups !== 1) lines.push(`groups=${groups}`);
    if (s.flag2 && filtersOverride === undefined) lines.push('batch_normalize=1');
    lines.push(`activation=${activation}`);
    push(lines, [
      filters,
      Math.floor((h + 2 * padding - size) / stride) + 1,
      Math.floor((w + 2 * padding - size) / stride) + 1,
    ]);
  };
  // darknet treats a softmax output as a flat vector: after one, only connected and softmax layers fit.
  let flat = false;
  const flatLayers = new Set<number>();
  for (const s of seed.layers) {
    const chosen = KINDS[s.kind % KINDS.length] ?? 'conv';
    const kind = flat && chosen !== 'connected' && chosen !== 'softmax' ? 'softmax' : chosen;
    const [c, h, w] = current;
    const index = shapes.length;
    switch (kind) {
      case 'conv':
        conv(s);
        break;
      case 'maxpool': {
        let size = 1 + (s.a % 3);
        const stride = 1 + (s.b % 3);
        let padding = s.flag ? size - 1 : s.d % size;
        if (h + padding < size || w + padding < size) {
          size = 1;
          padding = 0;
        }
        const lines = ['[maxpool]', `size=${size}`, `stride=${stride}`];
        if (!s.flag) lines.push(`padding=${padding}`);
        push(lines, [
          c,
          Math.floor((h + padding - size) / stride) + 1,
          Math.floor((w + padding - size) / stride) + 1,
        ]);
        break;
      }
      case 'route': {
        const sources = shapes.map((shape, j) => ({ shape, j })).filter(({ j }) => !flatLayers.has(j));
        const firstSource = sources[s.a % Math.max(1, sources.length)];
        if (!firstSource) break;
        const { shape: firstShape, j: first } = firstSource;
        const partners = sources.filter(
          ({ shape, j }) => j !== first && shape[1] === firstShape[1] && shape[2] === firstShape[2],
        );
        const second = s.flag && partners.length > 0 ? partners[s.b % partners.length] : undefined;
        const refs = [first, ...(second ? [second.j] : [])];
        const written = refs.map((ref) => (s.flag2 ? ref - index : ref));
        push(
          ['[route]', `layers=${written.join(',')}`],
          [firstShape[0] + (second ? second.shape[0] : 0), firstShape[1], firstShape[2]],
        );
        break;
      }
      case 'reorg':
        if (h % 2 !== 0 || w % 2 !== 0 || c % 4 !== 0) break;
        push(['[reorg]', 'stride=2'], [c * 4, h / 2, w / 2]);
        break;
      case 'shortcut': {
        const candidates = shapes
          .map((shape, j) => ({ shape, j }))
          .filter(({ shape, j }) => !flatLayers.has(j) && shape.join() === current.join());
        const chosen = candidates[s.a % Math.max(1, candidates.length)];
        if (!chosen || index === 0) break;
        push(
          [
            '[shortcut]',
            `from=${s.flag2 ? chosen.j - index : chosen.j}`,
            `activation=${activations[s.b % activations.length] ?? 'linear'}`,
          ],
          current,
        );
        break;
      }
      case 'upsample': {
        const stride = 1 + (s.a % 2);
        if (h * stride > 96 || w * stride > 96) break;
        push(['[upsample]', `stride=${stride}`], [c, h * stride, w * stride]);
        break;
      }
      case 'avgpool':
        push([options.openCvCompatible || s.flag ? '[avgpool]' : '[avg]'], [c, 1, 1]);
        break;
      case 'connected': {
        if (options.openCvCompatible || c * h * w > 4096) break;
        const output = 1 + (s.a % 10);
        const lines = [
          '[connected]',
          `output=${output}`,
          `activation=${activations[s.b % activations.length] ?? 'linear'}`,
        ];
        if (s.flag) lines.push('batch_normalize=1');
        push(lines, [output, 1, 1]);
        flat = false;
        break;
      }
      case 'softmax':
        if (options.openCvCompatible) break;
        flatLayers.add(index);
        push(['[softmax]', 'groups=1'], current);
        flat = true;
        break;
    }
  }
  if (flat) return `${sections.join('\n\n')}\n`;
  if (seed.head === 1 || shapes.length === 0) {
    conv({ kind: 0, a: 0, b: 0, c: 0, d: 0, flag: true, flag2: false }, 2 * (4 + 1 + 3));
    push(
      ['[region]', 'anchors=1,1.5,2,2.5', 'classes=3', 'coords=4', 'num=2', 'softmax=1', 'jitter=.2'],
      current,
    );
  } else if (seed.head === 2 && !options.openCvCompatible) {
    conv({ kind: 0, a: 0, b: 0, c: 0, d: 0, flag: true, flag2: false }, 3 * (4 + 1 + 2));
    push(
      ['[yolo]', 'mask=0,1,2', 'anchors=10,14,23,27,37,58,81,82', 'classes=2', 'num=4', 'ignore_thresh=.7'],
      current,
    );
  }
  return `${sections.join('\n\n')}\n`;
}

/** Random valid cfg text. */
export const randomCfgArbitrary = (options: RandomCfgOptions): fc.Arbitrary<string> =>
  cfgSeedArbitrary.map((seed) => buildRandomCfg(seed, options));

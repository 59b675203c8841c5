import { CfgError, parseCfg } from '../src';

const NET = '[net]\nwidth=16\nheight=16\nchannels=3\n';

/** Parses `text` as `bad.cfg` and returns the error message. */
function errorOf(text: string): string {
  try {
    parseCfg(text, 'bad.cfg');
  } catch (error) {
    expect(error).toBeInstanceOf(CfgError);
    return (error as CfgError).message;
  }
  throw new Error('expected the cfg to be rejected');
}

describe('cfg errors name file:line and the reason', () => {
  it.each([
    ['unknown section', `${NET}\n[lstm]\noutput=4\n`, 'bad.cfg:6: unknown section [lstm]'],
    [
      'unknown layer key',
      `${NET}\n[convolutional]\nfilters=4\nsize=3\nsizee=3\n`,
      "bad.cfg:9: unknown key 'sizee' in [convolutional]",
    ],
    ['unknown [net] key', `${NET}foo=1\n`, "bad.cfg:5: unknown key 'foo' in [net]"],
    ['bad integer', `${NET}\n[convolutional]\nfilters=4x\n`, "bad.cfg:7: filters: '4x' is not an integer"],
    ['bad float', `${NET}\n[softmax]\ntemperature=abc\n`, "bad.cfg:7: temperature: 'abc' is not a number"],
    ['bad flag', `${NET}\n[convolutional]\nbatch_normalize=2\n`, 'bad.cfg:7: batch_normalize must be 0 or 1'],
    [
      'missing [net] size',
      '[net]\nwidth=16\nchannels=3\n\n[avgpool]\n',
      "bad.cfg:1: [net] requires 'height'",
    ],
    ['first section not [net]', '[convolutional]\nfilters=1\n', 'bad.cfg:1: the first section must be [net]'],
    [
      'option before any section',
      'width=3\n[net]\n',
      "bad.cfg:1: option 'width=3' appears before any [section]",
    ],
    ['line without =', `${NET}\n[maxpool]\nsize\n`, "bad.cfg:7: expected 'key=value'"],
    [
      'duplicate key',
      `${NET}\n[maxpool]\nsize=2\nsize=3\n`,
      "bad.cfg:8: duplicate key 'size' in [maxpool] (first set on line 7)",
    ],
    [
      'route to a later layer',
      `${NET}\n[maxpool]\nsize=2\nstride=2\n\n[route]\nlayers=3\n`,
      'bad.cfg:11: layers=3 refers to layer 3, which is this or a later layer',
    ],
    [
      'route in the first layer',
      `${NET}\n[route]\nlayers=-1\n`,
      'bad.cfg:7: layers=-1 refers to layer -1, which is a layer before the first (layer 0 has no earlier layers)',
    ],
    [
      'route to itself',
      `${NET}\n[maxpool]\nsize=2\nstride=2\n\n[route]\nlayers=1\n`,
      'bad.cfg:11: layers=1 refers to layer 1',
    ],
    [
      'route before the first layer',
      `${NET}\n[maxpool]\nsize=2\nstride=2\n\n[route]\nlayers=-5\n`,
      'bad.cfg:11: layers=-5 refers to layer -4, which is a layer before the first',
    ],
    [
      'route of different sizes',
      `${NET}\n[maxpool]\nsize=2\nstride=2\n\n[maxpool]\nsize=2\nstride=2\n\n[route]\nlayers=0,1\n`,
      'bad.cfg:15: route cannot concatenate layer 0 (3x8x8 (CxHxW)) with layer 1 (3x4x4 (CxHxW))',
    ],
    [
      'shortcut to a later layer',
      `${NET}\n[maxpool]\nsize=1\nstride=1\n\n[shortcut]\nfrom=2\n`,
      'bad.cfg:11: from=2 refers to layer 2',
    ],
    [
      'shortcut of different shapes',
      `${NET}\n[maxpool]\nsize=2\nstride=2\n\n[convolutional]\nfilters=5\nsize=1\n\n[shortcut]\nfrom=0\n`,
      'bad.cfg:15: shortcut adds layer 0 (3x8x8 (CxHxW)) to its input (5x8x8 (CxHxW)): shapes must be equal',
    ],
    [
      'region channels do not fit',
      `${NET}\n[convolutional]\nfilters=40\nsize=1\nactivation=linear\n\n[region]\nanchors=1,1,2,2,3,3,4,4,5,5\nclasses=4\nnum=5\n`,
      'bad.cfg:11: [region] expects 45 input channels (num*(coords+1+classes) = 5*(4+1+4)) but the previous layer outputs 40x16x16 (CxHxW)',
    ],
    [
      'anchors do not match num',
      `${NET}\n[region]\nanchors=1,1,2\nnum=2\n`,
      'bad.cfg:7: anchors lists 3 numbers but num=2 needs 4',
    ],
    [
      'convolution larger than its input',
      `${NET}\n[convolutional]\nfilters=2\nsize=17\n`,
      'bad.cfg:6: convolution output would be 2x0x0: input 3x16x16 (CxHxW) is too small',
    ],
    [
      'maxpool larger than its input',
      `${NET}\n[maxpool]\nsize=20\nstride=1\npadding=0\n`,
      'bad.cfg:6: maxpool output would be 3x-3x-3',
    ],
    [
      'groups that do not divide',
      `${NET}\n[convolutional]\nfilters=4\ngroups=2\n`,
      'bad.cfg:8: groups=2 must divide both the input channels (3) and filters (4)',
    ],
    [
      'reorg stride that does not divide',
      `${NET}\n[reorg]\nstride=3\n`,
      'bad.cfg:7: reorg stride 3 does not divide',
    ],
    [
      'reorg channels not divisible by stride²',
      `${NET}\n[reorg]\nstride=2\n`,
      'bad.cfg:7: reorg stride 2 needs input channels divisible by 4, got 3x16x16 (CxHxW)',
    ],
    [
      'image layer after softmax',
      `${NET}\n[softmax]\n\n[convolutional]\nfilters=1\n`,
      'bad.cfg:8: [convolutional] needs an image input, but layer 0 is a [softmax]',
    ],
    [
      'route to a softmax',
      `${NET}\n[softmax]\n\n[connected]\noutput=2\n\n[route]\nlayers=0\n`,
      'bad.cfg:12: layer 0 is a [softmax], whose output darknet treats as a flat vector, not an image',
    ],
    [
      'unsupported activation',
      `${NET}\n[convolutional]\nactivation=mish\n`,
      "bad.cfg:7: unsupported activation 'mish'",
    ],
    [
      'unsupported darknet option',
      `${NET}\n[convolutional]\nxnor=1\n`,
      "bad.cfg:7: 'xnor' in [convolutional] is a darknet option this library does not support",
    ],
    [
      'weights-skipping option',
      `${NET}\n[convolutional]\ndontload=1\n`,
      "bad.cfg:7: 'dontload' in [convolutional]",
    ],
  ])('%s', (_name, text, expected) => {
    expect(errorOf(text)).toContain(expected);
  });

  it('accepts darknet section aliases and whitespace, comments', () => {
    const network = parseCfg(
      `# comment\n${NET}\n[conv]\nfilters = 4\n; note\nsize=3\npad=1\n\n[max]\nsize=2\nstride=2\n`,
      'ok.cfg',
    );
    expect(network.layers.map((layer) => layer.type)).toEqual(['convolutional', 'maxpool']);
    expect(network.outputShape).toEqual([4, 8, 8]);
  });
});

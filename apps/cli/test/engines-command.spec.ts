import { CliError } from '../src/cli-error';
import { parseDeviceClass } from '../src/commands/fleet/engines';

describe('`engines build --device-class`', () => {
  it('maps gpuArch, tensorrt and jetpack onto the fields of an engine request', () => {
    expect(parseDeviceClass('gpuArch=sm_53,jetpack=4.6.1')).toEqual({ gpuArch: 'sm_53', jetpack: '4.6.1' });
    expect(parseDeviceClass(' gpuArch=sm_72 , tensorrt=8.5 ,jetpack=5.1')).toEqual({
      gpuArch: 'sm_72',
      tensorrt: '8.5',
      jetpack: '5.1',
    });
  });

  it.each([
    ['gpuArch=sm_53', 'give tensorrt, jetpack or both'],
    ['tensorrt=8.2', 'give gpuArch, e.g. gpuArch=sm_53,jetpack=4.6.1'],
    [
      'gpuArch=sm_53,arch=x,tensorrt=8.2',
      '"arch=x" is not one of gpuArch=<value>, tensorrt=<value>, jetpack=<value>',
    ],
    ['gpuArch=sm_53,tensorrt=', '"tensorrt=" is not one of'],
    ['gpuArch=sm_53,tensorrt=8.2,tensorrt=8.5', 'tensorrt is given twice'],
  ])('refuses %s with exit code 2', (text, message) => {
    let caught: unknown;
    try {
      parseDeviceClass(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).message).toContain(`--device-class "${text}": `);
    expect((caught as CliError).message).toContain(message);
    expect((caught as CliError).exitCode).toBe(2);
  });
});

import { isValidDeviceId } from '@emofleet/protocol';
import { newDeviceId } from './device-id';

describe('newDeviceId', () => {
  it('slugs the name and appends a random suffix', () => {
    expect(newDeviceId('Jetson Nano #3 (lab)')).toMatch(/^jetson-nano-3-lab-[0-9a-f]{8}$/);
    expect(newDeviceId('Jetson')).not.toBe(newDeviceId('Jetson'));
  });

  it('always gives a valid protocol identifier', () => {
    for (const name of ['', '---', 'ÄÖÜ', '$SYS/#', 'x'.repeat(200), ' cam 1 ']) {
      const id = newDeviceId(name);
      expect(isValidDeviceId(id)).toBe(true);
    }
    expect(newDeviceId('$$$')).toMatch(/^dev-[0-9a-f]{8}$/);
  });
});

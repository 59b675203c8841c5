import { nextSessionPresence } from '../src';

describe('nextSessionPresence', () => {
  it('takes the first state of a device as it is', () => {
    expect(nextSessionPresence(undefined, { state: 'offline', bdSeq: 4 })).toEqual({
      bdSeq: 4,
      online: false,
    });
    expect(nextSessionPresence(undefined, { state: 'online', bdSeq: 4 })).toEqual({ bdSeq: 4, online: true });
  });

  it('marks the current session offline when its own will or clean shutdown arrives', () => {
    expect(nextSessionPresence({ bdSeq: 4, online: true }, { state: 'offline', bdSeq: 4 })).toEqual({
      bdSeq: 4,
      online: false,
    });
  });

  it('ignores the late will of an older session after a newer session came online', () => {
    expect(nextSessionPresence({ bdSeq: 5, online: true }, { state: 'offline', bdSeq: 4 })).toBeUndefined();
  });

  it('applies the offline of a newer session whose online was missed', () => {
    expect(nextSessionPresence({ bdSeq: 4, online: true }, { state: 'offline', bdSeq: 6 })).toEqual({
      bdSeq: 6,
      online: false,
    });
  });

  it('always applies online, even with a lower bdSeq (device reset with its clock behind)', () => {
    expect(nextSessionPresence({ bdSeq: 900, online: false }, { state: 'online', bdSeq: 12 })).toEqual({
      bdSeq: 12,
      online: true,
    });
  });
});

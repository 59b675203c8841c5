import { parseTegrastatsLine } from './tegrastats-line';

// Lines as real boards print them (public samples, e.g. the test data of DataDog's Jetson check and issue
// reports): the parser must take each layout.
const NANO_JETPACK_461 =
  'RAM 1923/3964MB (lfb 2x2MB) SWAP 191/1982MB (cached 6MB) IRAM 0/252kB(lfb 252kB) CPU [5%@1224,4%@1224,3%@1224,6%@1224] EMC_FREQ 0%@1600 GR3D_FREQ 0%@76 APE 25 PLL@37C CPU@40C PMIC@50C GPU@40C AO@45C thermal@40C POM_5V_IN 1750/1628 POM_5V_GPU 0/0 POM_5V_CPU 366/406';
const TX1 =
  'RAM 1179/3983MB (lfb 120x4MB) IRAM 0/252kB(lfb 252kB) CPU [1%@102,4%@102,0%@102,0%@102] EMC_FREQ 7%@408 GR3D_FREQ 0%@76 APE 25 AO@42.5C CPU@37.5C GPU@39C PLL@37C Tdiode@42.75C PMIC@100C Tboard@42C thermal@38.5C VDD_IN 2532/2698 VDD_CPU 76/178 VDD_GPU 19/19';
const XAVIER_NX =
  'RAM 4412/7772MB (lfb 237x4MB) SWAP 139/3886MB (cached 2MB) CPU [9%@1190,6%@1190,6%@1190,5%@1190,4%@1190,8%@1267] EMC_FREQ 10%@1600 GR3D_FREQ 62%@306 APE 150 MTS fg 0% bg 0% AO@41.5C GPU@43C PMIC@100C AUX@41.5C CPU@43.5C thermal@42.55C VDD_IN 4067/4067 VDD_CPU_GPU_CV 738/738 VDD_SOC 1353/1353';
const ORIN_R36 =
  'RAM 29114/30697MB (lfb 3x4MB)    SWAP 4915/15348MB (cached 1MB) CPU [3%@729,4%@729,0%@729,1%@729,0%@2201,100%@2201] EMC_FREQ 1%@2133 GR3D_FREQ 7%@[305,305] NVENC      off  NVDEC    off APE           174        cpu@53.062C soc2@48.25C soc0@48.843C  gpu@47.812C tj@53.062C soc1@48.968C    VDD_GPU_SOC 3205mW/3205mW';

const MIB = 1024 * 1024;

describe('parseTegrastatsLine', () => {
  it('reads a Jetson Nano line (JetPack 4.6.1): GPU load, shared RAM, temperatures', () => {
    expect(parseTegrastatsLine(NANO_JETPACK_461)).toEqual({
      gpu: { loadPercent: 0, memoryUsedBytes: 1923 * MIB, memoryTotalBytes: 3964 * MIB },
      temperaturesC: { PLL: 37, CPU: 40, PMIC: 50, GPU: 40, AO: 45, thermal: 40 },
    });
  });

  it('reads a TX1 line (no SWAP field, Tdiode and Tboard sensors)', () => {
    const sample = parseTegrastatsLine(TX1);
    expect(sample?.gpu).toEqual({
      loadPercent: 0,
      memoryUsedBytes: 1179 * MIB,
      memoryTotalBytes: 3983 * MIB,
    });
    expect(sample?.temperaturesC).toMatchObject({ Tdiode: 42.75, Tboard: 42, thermal: 38.5, CPU: 37.5 });
  });

  it('reads a Xavier NX line with GPU load', () => {
    expect(parseTegrastatsLine(XAVIER_NX)?.gpu?.loadPercent).toBe(62);
    expect(parseTegrastatsLine(XAVIER_NX)?.temperaturesC.thermal).toBe(42.55);
  });

  it('reads an Orin (L4T R36) line with bracketed GPU frequencies and lower-case sensors', () => {
    const sample = parseTegrastatsLine(ORIN_R36);
    expect(sample?.gpu?.loadPercent).toBe(7);
    expect(sample?.temperaturesC).toMatchObject({ cpu: 53.062, gpu: 47.812, tj: 53.062 });
  });

  it('does not take CPU core frequencies (5%@1224) for temperatures, and rejects other text', () => {
    expect(Object.keys(parseTegrastatsLine(NANO_JETPACK_461)?.temperaturesC ?? {})).not.toContain('5%');
    expect(parseTegrastatsLine('tegrastats: command not found')).toBeNull();
  });
});

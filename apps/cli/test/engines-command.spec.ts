import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { CliError } from '../src/cli-error';
import { parseDeviceClass, registerEngineCommands } from '../src/commands/fleet/engines';
import { runCommand } from './support/run-command';

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

describe('`engines build --precision int8` (against a local HTTP double of the API)', () => {
  let server: Server;
  let baseUrl: string;
  const requests: Array<{ method: string; url: string; body: unknown }> = [];
  /** What the double answers POST /models/:id/engines with. */
  let engineAnswer: { status: number; body: unknown };

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        requests.push({
          method: request.method ?? '',
          url: request.url ?? '',
          body: text ? JSON.parse(text) : null,
        });
        const answer =
          request.method === 'GET'
            ? { status: 200, body: { id: '0b6f3f43-0c1e-4d5e-9a61-2f1c7f0e9a10' } }
            : engineAnswer;
        response
          .writeHead(answer.status, { 'content-type': 'application/json' })
          .end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function run(...args: string[]): Promise<string> {
    const argv = ['engines', 'build', 'fer@2', ...args, '--server', baseUrl, '--token', 't'];
    return (await runCommand(registerEngineCommands, argv)).stdout;
  }

  it('requests precision int8 for the class', async () => {
    engineAnswer = {
      status: 202,
      body: {
        cacheKey: 'a'.repeat(64),
        jobId: `engine-build-${'a'.repeat(64)}`,
        status: 'queued',
        cached: false,
        target: { gpuArch: 'sm_72', tensorrt: '8.2', jetpack: '4.6.1', precision: 'int8' },
      },
    };
    const printed = await run('--device-class', 'gpuArch=sm_72,jetpack=4.6.1', '--precision', 'int8');
    expect(requests[requests.length - 1]).toEqual({
      method: 'POST',
      url: '/models/0b6f3f43-0c1e-4d5e-9a61-2f1c7f0e9a10/engines',
      body: { gpuArch: 'sm_72', jetpack: '4.6.1', precision: 'int8' },
    });
    expect(printed).toContain(`fer@2: engine build ${'a'.repeat(64)} queued`);
  });

  it("exits 1 with the API's refusal (no calibration cache: run the quantize job first)", async () => {
    const message =
      'precision: int8 needs a TensorRT calibration cache and model version fer@2 has none; run POST ' +
      '/models/fer/versions/2/quantize first';
    engineAnswer = { status: 422, body: { error: { status: 422, code: 'unprocessable', message } } };
    await expect(
      run('--device-class', 'gpuArch=sm_72,jetpack=4.6.1', '--precision', 'int8'),
    ).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining(message) as string });
  });
});

import * as http from 'node:http';
import { type AddressInfo } from 'node:net';
import { type ArgumentsHost, Logger, NotFoundException } from '@nestjs/common';
import express, { type Request, type Response } from 'express';
import { ApiErrorFilter } from './api-error.filter';

/** A real Express server whose route hands `failure` to the filter, after `partial` bytes when given. */
async function serveFailure(failure: unknown, partial?: string): Promise<{ url: string; close: () => void }> {
  const filter = new ApiErrorFilter();
  const app = express();
  app.get('/thing', (request: Request, response: Response) => {
    const host = {
      switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
    } as unknown as ArgumentsHost;
    if (partial === undefined) return filter.catch(failure, host);
    // The failure comes once the first bytes went out (as a download whose client went away).
    response.status(200).setHeader('Content-Length', '1000');
    response.write(partial, () => filter.catch(failure, host));
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/thing`,
    close: () => server.close(),
  };
}

function fetchRaw(url: string): Promise<{ status: number; body: string; cut: boolean }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, cut: false }));
        response.on('error', () => resolve({ status: response.statusCode ?? 0, body, cut: true }));
      })
      .on('error', reject)
      // A response left open (neither ended nor cut) fails the test instead of hanging it.
      .setTimeout(5000, () => reject(new Error(`${url}: the response neither ended nor was cut within 5 s`)));
  });
}

describe('ApiErrorFilter', () => {
  let warnings: string[];
  beforeEach(() => {
    warnings = [];
    jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation((message: unknown) => void warnings.push(String(message)));
  });
  afterEach(() => jest.restoreAllMocks());

  it('answers an error before the response started with the JSON error body', async () => {
    const server = await serveFailure(new NotFoundException('no artifact with sha256 abc'));
    try {
      const answer = await fetchRaw(server.url);
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.body)).toEqual({
        error: { status: 404, code: 'not_found', message: 'no artifact with sha256 abc' },
      });
    } finally {
      server.close();
    }
  });

  it('cuts a streamed response that failed part way instead of appending an error body, and names the request', async () => {
    const premature = Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    const server = await serveFailure(premature, 'first bytes');
    try {
      const answer = await fetchRaw(server.url);
      expect(answer).toEqual({ status: 200, body: 'first bytes', cut: true });
      expect(warnings).toEqual(['GET /thing: the client closed the connection before the response ended']);
    } finally {
      server.close();
    }
  });
});
